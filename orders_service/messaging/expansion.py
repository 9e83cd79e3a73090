"""The relay's handler for `campaigns.expand`: fix a campaign's members, then queue their messages in batches.

Membership is a snapshot. The first run evaluates the segment once, with its time-based rules (birthday this
month, 90 days without an order) read at the moment the campaign was requested, and writes the members down;
the batches then walk that list. The shop asked for "the VIPs now", which is what the dry run showed them,
and a snapshot keeps that promise for a campaign that takes minutes: a customer who leaves the segment
meanwhile (her last order got older) still gets the offer she was counted in, one who joins is not added
halfway through, and `recipients` and the progress are known from the first batch on. Evaluating the rules
batch by batch instead would reach a set that belongs to no moment: a member whose id the cursor had passed
when she joined is missed, one after it is included. The gate (consent, opt-out, the cap, quiet hours) is
not part of membership: it is applied to each member when her batch is queued, and again when her message is
sent.

Each batch is one short write transaction: it locks the campaign row, takes the next members after the
cursor (customer id order), records their messages, and moves the cursor and the counters. A run cut short
(a worker killed, an error) leaves the cursor at the last committed batch, and the relay runs the message
again; two runs at once take turns on the row lock and never take the same members. The per-member dedupe
key `campaign:{key}:{customer_id}` is checked as well, so nobody is reached twice under one key, whatever
happened before. A run stops after `RUN_BUDGET_S` and leaves a new outbox message to go on: a Celery task has
a time limit, and a relay pass waits for all the handlers it started before it takes the next messages, so a
long run would hold up courier syncs in the same process.

A run also stops, and goes on later the same way, while the relay has more than a batch of messages waiting to
be sent. The relay takes messages oldest first: queuing fifty thousand at once would put every courier sync and
order message after them for minutes. Paced like this, the campaign goes out as fast as the relay sends, and
anything else waits behind one batch at most.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import time
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.policy import Action
from notifications.templates import MARKETING, Template
from orders_service.db.engine import begin_write
from orders_service.db.models import OutboxMessage
from orders_service.domain.errors import DomainError
from orders_service.infra import clock
from orders_service.infra.outbox import enqueue
from orders_service.loyalty.segment_services import member_ids
from orders_service.messaging.config import NotifyConfig, config_of
from orders_service.messaging.members import chunks, gate, load_members
from orders_service.messaging.models import Campaign, CampaignMember, Notification
from orders_service.messaging.queue import TOPIC as SEND_TOPIC
from orders_service.messaging.queue import build_message, unsubscribe_urls
from orders_service.messaging.schemas import CampaignState

log = logging.getLogger(__name__)
TOPIC = "campaigns.expand"
RUN_BUDGET_S = 2.0  # a few batches
SNAPSHOT_CHUNK = 5_000  # member rows written per transaction while the snapshot is taken


def _now() -> datetime.datetime:
    return clock.now()


async def expand_campaign(db: async_sessionmaker[AsyncSession], key: str, budget_s: float = RUN_BUDGET_S) -> str:
    """Go on with campaign `key` from where it stands; what happened, for the relay's log."""
    started = time.monotonic()
    try:
        async with db() as session:
            state = await session.scalar(select(Campaign.state).where(Campaign.key == key))
        if state is None or state in (CampaignState.DONE, CampaignState.FAILED):
            return "nothing to do"
        if state == CampaignState.QUEUED:
            await _fix_members(db, key)
        while await _next_batch(db, key):
            if time.monotonic() - started >= budget_s or await _relay_is_behind(db):
                await _go_on_later(db, key)
                return "continued"
        return "done"
    except DomainError as error:  # the segment is gone (renamed in a release): no retry can fix that
        await _record(db, key, state=str(CampaignState.FAILED), finished_at=_now(), last_error=error.detail)
        return "failed"
    except Exception as error:  # a crash or an outage: shown on the campaign, and the relay runs it again
        # The driver's own words: SQLAlchemy's text adds the statement and its parameters (names, phones).
        said = error.orig if isinstance(error, DBAPIError) else error
        await _record(db, key, last_error=f"{type(said).__name__}: {said}"[:2000])
        raise


async def _locked(session: AsyncSession, key: str) -> Campaign | None:
    return await session.scalar(select(Campaign).where(Campaign.key == key).with_for_update())


async def _fix_members(db: async_sessionmaker[AsyncSession], key: str) -> None:
    """Write the segment's members down, a chunk per transaction, then start sending."""
    async with db() as session:  # a read: on SQLite it does not hold the writer lock
        campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
        if campaign is None:
            return
        ids = await member_ids(session, campaign.segment, campaign.created_at)
    for chunk in chunks(ids, SNAPSHOT_CHUNK):
        async with db() as session, session.begin():
            await begin_write(session)
            campaign = await _locked(session, key)
            if campaign is None or campaign.state != CampaignState.QUEUED:
                return  # another run fixed them first
            # A run cut short left some of them: keep those, add the rest.
            have = set(
                await session.scalars(
                    select(CampaignMember.customer_id).where(
                        CampaignMember.campaign_id == campaign.id, CampaignMember.customer_id.in_(chunk)
                    )
                )
            )
            rows = [{"campaign_id": campaign.id, "customer_id": c} for c in chunk if c not in have]
            if rows:
                await session.execute(insert(CampaignMember), rows)
    async with db() as session, session.begin():
        await begin_write(session)
        campaign = await _locked(session, key)
        if campaign is not None and campaign.state == CampaignState.QUEUED:
            count = select(func.count()).where(CampaignMember.campaign_id == campaign.id)
            campaign.recipients = await session.scalar(count) or 0
            campaign.state = str(CampaignState.SENDING)
            campaign.started_at = campaign.updated_at = _now()


async def _next_batch(db: async_sessionmaker[AsyncSession], key: str) -> bool:
    """Queue the next members' messages in one transaction; False once every member was handled."""
    now = _now()
    async with db() as session, session.begin():
        await begin_write(session)
        campaign = await _locked(session, key)
        if campaign is None or campaign.state != CampaignState.SENDING:
            return False
        config = config_of(session)
        # A keyset walk from the saved cursor, not an offset: a run cut short goes on where it stopped.
        query = select(CampaignMember.customer_id).where(CampaignMember.campaign_id == campaign.id)
        if campaign.cursor is not None:
            query = query.where(CampaignMember.customer_id > campaign.cursor)
        ids = list(await session.scalars(query.order_by(CampaignMember.customer_id).limit(config.campaign_batch)))
        if ids:
            await _queue(session, campaign, ids, now, config)
            campaign.cursor = ids[-1]
            campaign.processed += len(ids)
        if len(ids) < config.campaign_batch:
            campaign.state, campaign.finished_at = str(CampaignState.DONE), now
        campaign.updated_at = now
        return campaign.state == CampaignState.SENDING


async def _queue(
    session: AsyncSession, campaign: Campaign, ids: list[UUID], now: datetime.datetime, config: NotifyConfig
) -> None:
    """One message per member not reached yet under this key: suppressed ones are recorded with the gate's
    reason and go no further; the others get an outbox row, a deferred one due when the window opens."""
    members = await load_members(session, ids)
    keys = {m.id: f"campaign:{campaign.key}:{m.id}" for m in members}
    taken = set(
        await session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(list(keys.values()))))
    )
    fresh = [m for m in members if keys[m.id] not in taken]
    template = Template(campaign.template)
    links = await unsubscribe_urls(session, [m.id for m in fresh], config) if template in MARKETING else {}
    made = []
    for member, decision in zip(fresh, await gate(session, fresh, now, config), strict=True):
        row = build_message(
            config,
            template,
            campaign.params,
            keys[member.id],
            customer_id=member.id,
            name=member.name,
            contacts=member.contacts,
            unsubscribe=links.get(member.id),
            campaign=campaign.key,
        )
        if decision.action is Action.SUPPRESS:
            row.status, row.reason = "suppressed", decision.reason
        elif decision.action is Action.DEFER:
            row.deferred_until, row.reason = decision.until, decision.reason
        if decision.channels:  # the one it will go by, as the gate chose: not merely the first reachable
            row.channel, row.to = str(decision.channels[0]), row.contacts[decision.channels[0]]
        made.append((row, decision))
    session.add_all(row for row, _ in made)
    await session.flush()  # the rows' ids, for their outbox messages
    for row, decision in made:
        if decision.action is not Action.SUPPRESS:
            message = enqueue(session, SEND_TOPIC, str(row.id), {"notification_id": str(row.id)})
            message.available_at = decision.until or now
    actions = [decision.action for _, decision in made]
    campaign.suppressed += actions.count(Action.SUPPRESS)
    campaign.deferred += actions.count(Action.DEFER)
    campaign.queued += len(actions) - actions.count(Action.SUPPRESS)
    campaign.skipped += len(ids) - len(made)


async def _relay_is_behind(db: async_sessionmaker[AsyncSession]) -> bool:
    """More than a batch of messages due and not sent yet (deferred ones are not due)."""
    async with db() as session:
        waiting = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.available_at <= _now(),
                OutboxMessage.topic == SEND_TOPIC,
            )
            .offset(config_of(session).campaign_batch)
            .limit(1)
        )
        return await session.scalar(waiting) is not None


async def _go_on_later(db: async_sessionmaker[AsyncSession], key: str) -> None:
    async with db() as session, session.begin():
        await begin_write(session)
        enqueue(session, TOPIC, key, {"campaign": key})


async def _record(db: async_sessionmaker[AsyncSession], key: str, **values: object) -> None:
    """Note on the campaign why a run stopped; best effort, since the database may be what failed."""
    with contextlib.suppress(Exception):
        async with db() as session, session.begin():
            await begin_write(session)
            await session.execute(update(Campaign).where(Campaign.key == key).values(updated_at=_now(), **values))
            return
    log.warning("could not record on campaign %s: %s", key, values)
