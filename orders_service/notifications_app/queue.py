"""Queue a message in the caller's transaction: rendered now, recorded once under its cause, sent by the relay."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.policy import Channel
from notifications.templates import MARKETING, PURPOSE, Template, render, text_params
from orders_service.db.models import Customer
from orders_service.notifications_app.config import NotifyConfig, config_of
from orders_service.notifications_app.models import Notification, UnsubscribeToken
from orders_service.outbox import enqueue

TOPIC = "notifications.send"


def contacts_of(customer: Customer) -> dict[str, str]:
    """Where a customer can be reached: her first phone on Zalo and by SMS, her email."""
    found: dict[str, str] = {}
    if customer.phones:
        found[Channel.ZALO] = found[Channel.SMS] = customer.phones[0].e164
    if customer.email:
        found[Channel.EMAIL] = customer.email
    return found


def staff_contacts(address: str) -> dict[str, str]:
    return {Channel.EMAIL: address} if "@" in address else {Channel.SMS: address}


async def unsubscribe_url(session: AsyncSession, customer_id: UUID, config: NotifyConfig) -> str:
    token = await session.scalar(select(UnsubscribeToken.token).where(UnsubscribeToken.customer_id == customer_id))
    if token is None:
        token = secrets.token_urlsafe(24)
        session.add(UnsubscribeToken(customer_id=customer_id, token=token))
    return f"{config.public_base_url}/u/{token}"


async def queue_message(
    session: AsyncSession,
    template: Template,
    params: Mapping[str, Any],
    dedupe_key: str,
    *,
    customer: Customer | None = None,
    contacts: Mapping[str, str] | None = None,
    order_id: UUID | None = None,
    campaign: str | None = None,
) -> Notification | None:
    """Record the message and its outbox row; None if its cause already made one (the key is taken)."""
    config = config_of(session)
    taken = await session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key))
    if taken is not None:
        return None
    purpose = PURPOSE[template]
    values: dict[str, Any] = {"shop": config.shop_name, **params}
    if customer is not None:
        values.setdefault("name", customer.full_name)
        contacts = contacts_of(customer) if contacts is None else contacts
    link = None
    if customer is not None and template in MARKETING:
        link = values["unsubscribe"] = await unsubscribe_url(session, customer.id, config)
    rendered = render(template, config.locale, values)
    contacts = dict(contacts or {})
    first = next((c for c in config.channels if c in contacts), config.channels[0])
    row = Notification(
        customer_id=customer.id if customer is not None else None,
        order_id=order_id,
        channel=first,
        to=contacts.get(first, ""),
        contacts=contacts,
        purpose=str(purpose),
        template=str(template),
        locale=config.locale,
        subject=rendered.subject[:300],
        body=rendered.body,
        params=text_params(values),
        unsubscribe_url=link,
        dedupe_key=dedupe_key[:200],
        campaign=campaign,
    )
    try:
        async with session.begin_nested():  # two writers with one cause at once: the second one steps back
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None
    enqueue(session, TOPIC, str(row.id), {"notification_id": str(row.id)})
    return row
