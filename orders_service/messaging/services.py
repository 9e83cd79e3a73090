"""Notification use cases: the message list, consents and the unsubscribe link (campaigns: campaigns.py)."""

from __future__ import annotations

import datetime
from uuid import UUID

from advanced_alchemy.filters import LimitOffset, OrderBy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.policy import Channel, Consent, Purpose
from orders_service.customers.services import get_customer
from orders_service.db.engine import begin_write
from orders_service.domain.errors import NotFound
from orders_service.infra import clock
from orders_service.infra.pagination import Repository, given
from orders_service.messaging.config import config_of
from orders_service.messaging.models import Notification, NotificationConsent, UnsubscribeToken
from orders_service.messaging.schemas import (
    ConsentOut,
    ConsentsIn,
    ConsentsOut,
    NotificationOut,
    Status,
)


def _now() -> datetime.datetime:
    return clock.now()


def to_out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        channel=Channel(row.channel),
        to=row.to,
        template=row.template,
        body=row.body,
        status=Status(row.status),
        reason=row.reason,
        created_at=row.created_at,
        purpose=Purpose(row.purpose),
        locale=row.locale,
        order_id=row.order_id,
        customer_id=row.customer_id,
        subject=row.subject,
        attempts=row.attempts,
        sent_at=row.sent_at,
        deferred_until=row.deferred_until,
        provider=row.provider,
        provider_message_id=row.provider_message_id,
        campaign=row.campaign,
    )


class NotificationRepository(Repository[Notification]):
    model_type = Notification


async def list_notifications(
    session: AsyncSession,
    order_id: UUID | None,
    customer_id: UUID | None,
    status: Status | None,
    limit: int,
    offset: int,
) -> tuple[list[Notification], int]:
    rows, total = await NotificationRepository(session=session).get_many_and_count(
        OrderBy("id", "desc"),
        LimitOffset(limit, offset),
        **given(order_id=order_id, customer_id=customer_id, status=str(status) if status is not None else None),
    )
    return list(rows), total


async def consents(session: AsyncSession, customer_id: UUID) -> ConsentsOut:
    await get_customer(session, customer_id)
    rows = await session.scalars(
        select(NotificationConsent)
        .where(NotificationConsent.customer_id == customer_id)
        .order_by(NotificationConsent.channel, NotificationConsent.purpose)
    )
    unsubscribed = await session.scalar(
        select(UnsubscribeToken.unsubscribed_at).where(UnsubscribeToken.customer_id == customer_id)
    )
    return ConsentsOut(
        customer_id=customer_id,
        opted_out=unsubscribed is not None,
        consents=[
            ConsentOut(Channel(r.channel), Purpose(r.purpose), Consent(r.state), r.source, r.updated_at) for r in rows
        ],
    )


async def _set_consent(
    session: AsyncSession, customer_id: UUID, channel: str, purpose: str, state: str, source: str
) -> None:
    row = await session.scalar(
        select(NotificationConsent).where(
            NotificationConsent.customer_id == customer_id,
            NotificationConsent.channel == channel,
            NotificationConsent.purpose == purpose,
        )
    )
    if row is None:
        row = NotificationConsent(customer_id=customer_id, channel=channel, purpose=purpose, state=state, source=source)
        session.add(row)
    row.state, row.source, row.updated_at = state, source, _now()


async def set_consents(session: AsyncSession, customer_id: UUID, data: ConsentsIn) -> ConsentsOut:
    """Record what she said; granting marketing again after she unsubscribed lifts the opt-out."""
    await begin_write(session)
    await get_customer(session, customer_id)
    for consent in data.consents:
        await _set_consent(session, customer_id, consent.channel, consent.purpose, consent.state, data.source)
    if any(c.purpose is Purpose.MARKETING and c.state is Consent.GRANTED for c in data.consents):
        token = await session.scalar(select(UnsubscribeToken).where(UnsubscribeToken.customer_id == customer_id))
        if token is not None:
            token.unsubscribed_at = None
    await session.flush()
    return await consents(session, customer_id)


async def unsubscribe(session: AsyncSession, token: str, *, confirm: bool) -> str:
    """The link's page: the shop's name. `confirm` withdraws every marketing consent at once."""
    shop = config_of(session).shop_name
    if confirm:
        await begin_write(session)
    row = await session.scalar(select(UnsubscribeToken).where(UnsubscribeToken.token == token))
    if row is None:
        raise NotFound("unsubscribe link", "")
    if confirm:
        row.unsubscribed_at = row.unsubscribed_at or _now()
        for channel in Channel:
            await _set_consent(session, row.customer_id, channel, Purpose.MARKETING, Consent.WITHDRAWN, "unsubscribe")
        await session.flush()
    return shop
