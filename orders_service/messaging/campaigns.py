"""Campaign use cases on the request side: accept one (a short write), preview one (a read), show their progress.

A real send only records the campaign and one outbox message, so the request takes the same time for ten
members or fifty thousand, and SQLite's writer lock is held for one small transaction. The relay expands it
(`expansion.py`). A dry run stays in the request: it reads, writes nothing, and lists at most the first
`LISTED` suppressed members with the total and the count per reason.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter

from advanced_alchemy.filters import LimitOffset, OrderBy
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.policy import Action
from orders_service.db.engine import begin_write
from orders_service.domain.errors import InvalidField, NotFound
from orders_service.infra import clock
from orders_service.infra.outbox import enqueue
from orders_service.infra.pagination import Repository, given
from orders_service.loyalty.segment_services import member_ids
from orders_service.loyalty.segments import rule
from orders_service.messaging.config import config_of
from orders_service.messaging.errors import CampaignKeyReused
from orders_service.messaging.expansion import TOPIC
from orders_service.messaging.members import chunks, gate, load_members
from orders_service.messaging.models import Campaign
from orders_service.messaging.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPreviewOut,
    CampaignState,
    CampaignTemplate,
    SuppressedOut,
)

LISTED = 100  # suppressed members a dry run names; the rest are counted
PREVIEW_CHUNK = 1_000  # members read and gated at a time by a dry run


def _now() -> datetime.datetime:
    return clock.now()


def _check(data: CampaignIn) -> None:
    if rule(data.segment) is None:
        raise InvalidField("segment", f"no segment {data.segment!r}; GET /api/segments lists them")
    if data.template is CampaignTemplate.PROMOTION and not data.message:
        raise InvalidField("message", "a promotion needs its message")


def to_out(row: Campaign) -> CampaignOut:
    return CampaignOut(
        key=row.key,
        segment=row.segment,
        template=CampaignTemplate(row.template),
        message=row.params.get("message"),
        state=CampaignState(row.state),
        recipients=row.recipients,
        processed=row.processed,
        queued=row.queued,
        deferred=row.deferred,
        suppressed=row.suppressed,
        skipped=row.skipped,
        last_error=row.last_error,
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
    )


async def preview(session: AsyncSession, data: CampaignIn, now: datetime.datetime | None = None) -> CampaignPreviewOut:
    """What the gate would do with each member now, read a chunk at a time; nothing is written."""
    _check(data)
    now = now or _now()
    config = config_of(session)
    ids = await member_ids(session, data.segment, now)
    counts: Counter[Action] = Counter()
    reasons: Counter[str] = Counter()
    listed: list[SuppressedOut] = []
    for chunk in chunks(ids, PREVIEW_CHUNK):
        members = await load_members(session, chunk)
        for member, decision in zip(members, await gate(session, members, now, config), strict=True):
            counts[decision.action] += 1
            if decision.action is Action.SUPPRESS:
                reason = decision.reason or "suppressed"
                reasons[reason] += 1
                if len(listed) < LISTED:
                    listed.append(SuppressedOut(customer_id=member.id, reason=reason))
    return CampaignPreviewOut(
        segment=data.segment,
        template=data.template,
        dry_run=True,
        recipients=len(ids),
        would_send=counts[Action.SEND],
        deferred=counts[Action.DEFER],
        suppressed_total=counts[Action.SUPPRESS],
        suppressed_reasons=dict(reasons.most_common()),
        suppressed=listed,
    )


async def start_campaign(
    session: AsyncSession, data: CampaignIn, created_by: str, now: datetime.datetime | None = None
) -> tuple[Campaign, bool]:
    """Record the campaign and the outbox message that expands it; (campaign, True) if it is new.

    The key makes a retry safe: the same key with the same request finds the campaign it started, and reaches
    nobody again; with another segment, template or message it is refused, naming the field.
    """
    _check(data)
    now = now or _now()
    key = data.key or uuid.uuid4().hex
    await begin_write(session)
    existing = await session.scalar(select(Campaign).where(Campaign.key == key))
    if existing is None:
        row = Campaign(
            key=key,
            segment=data.segment,
            template=str(data.template),
            params={"message": data.message} if data.message else {},
            created_by=created_by[:64],
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:  # a request with the same key committed first (PostgreSQL: writers run side by side)
            existing = await session.scalar(select(Campaign).where(Campaign.key == key))
        else:
            enqueue(session, TOPIC, key, {"campaign": key})
            return row, True
    if existing is None:  # the conflicting row is gone again: not something a retry can tell apart
        raise InvalidField("key", f"campaign {key!r} is being changed by another request; try again")
    for field, before, now_asked in (
        ("segment", existing.segment, data.segment),
        ("template", existing.template, str(data.template)),
        ("message", existing.params.get("message"), data.message),
    ):
        if before != now_asked:
            raise CampaignKeyReused(key, field, before)
    return existing, False


async def get_campaign(session: AsyncSession, key: str) -> Campaign:
    row = await session.scalar(select(Campaign).where(Campaign.key == key))
    if row is None:
        raise NotFound("campaign", key)
    return row


class CampaignRepository(Repository[Campaign]):
    model_type = Campaign


async def list_campaigns(
    session: AsyncSession, state: CampaignState | None, limit: int, offset: int
) -> tuple[list[Campaign], int]:
    rows, total = await CampaignRepository(session=session).get_many_and_count(
        OrderBy("created_at", "desc"),
        OrderBy("id", "desc"),
        LimitOffset(limit, offset),
        **given(state=str(state) if state is not None else None),
    )
    return list(rows), total
