"""Queue a message in the caller's transaction: rendered now, recorded once under its cause, sent by the relay."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.policy import Channel
from notifications.templates import MARKETING, PURPOSE, Template, render, text_params
from orders_service.db.models import Customer, CustomerPhone
from orders_service.db.upsert import Upsert
from orders_service.infra.outbox import enqueue_now
from orders_service.messaging.config import NotifyConfig, config_of
from orders_service.messaging.models import Notification, UnsubscribeToken

TOPIC = "notifications.send"


def contacts(phone: str | None, email: str | None) -> dict[str, str]:
    """Where a customer can be reached: her first phone on Zalo and by SMS, her email."""
    found: dict[str, str] = {}
    if phone:
        found[Channel.ZALO] = found[Channel.SMS] = phone
    if email:
        found[Channel.EMAIL] = email
    return found


def staff_contacts(address: str) -> dict[str, str]:
    return {Channel.EMAIL: address} if "@" in address else {Channel.SMS: address}


class Recipient(NamedTuple):
    """A customer as her message needs her: her name, where she is reached, and whether she was erased."""

    id: UUID
    name: str
    contacts: dict[str, str]
    erased: bool


# Her name, email, erasure and first phone (by position) in one statement, her profile held (FOR
# SHARE on PostgreSQL; SQLite's writer holds the whole database) until the message is committed.
_FIRST_PHONE = (
    select(CustomerPhone.e164)
    .where(CustomerPhone.customer_id == Customer.id)
    .order_by(CustomerPhone.position)
    .limit(1)
    .correlate(Customer)
    .scalar_subquery()
)
_RECIPIENT = (
    select(Customer.full_name, Customer.email, Customer.erased_at, _FIRST_PHONE)
    .where(Customer.id == bindparam("customer_id"))
    .with_for_update(read=True, of=Customer)
)


async def locked_recipient(session: AsyncSession, customer_id: UUID) -> Recipient | None:
    """The customer a message is for, read and held in the caller's transaction; None if there is none.

    An erasure (customers.privacy) locks her profile before scrubbing it, so a message queued in this
    transaction is either committed first (and scrubbed by it) or sees her erased: her data never outlives the
    erasure in a message. One statement; it was three (her profile, her phones, her erasure read again).
    """
    found = (await session.execute(_RECIPIENT, {"customer_id": customer_id})).first()
    if found is None:
        return None
    name, email, erased_at, phone = found
    return Recipient(customer_id, name, contacts(phone, email), erased_at is not None)


async def unsubscribe_url(session: AsyncSession, customer_id: UUID, config: NotifyConfig) -> str:
    return (await unsubscribe_urls(session, [customer_id], config))[customer_id]


async def unsubscribe_urls(
    session: AsyncSession, customer_ids: Sequence[UUID], config: NotifyConfig
) -> dict[UUID, str]:
    """Each customer's unsubscribe link, made on first use; one query for many customers."""
    rows = await session.execute(
        select(UnsubscribeToken.customer_id, UnsubscribeToken.token).where(
            UnsubscribeToken.customer_id.in_(sorted(set(customer_ids)))
        )
    )
    tokens = dict(rows.tuples().all())
    for customer_id in customer_ids:
        if customer_id not in tokens:
            tokens[customer_id] = secrets.token_urlsafe(24)
            session.add(UnsubscribeToken(customer_id=customer_id, token=tokens[customer_id]))
    return {customer_id: f"{config.public_base_url}/u/{token}" for customer_id, token in tokens.items()}


async def queue_message(
    session: AsyncSession,
    template: Template,
    params: Mapping[str, Any],
    dedupe_key: str,
    *,
    customer: Recipient | None = None,
    contacts: Mapping[str, str] | None = None,
    order_id: UUID | None = None,
    campaign: str | None = None,
) -> UUID | None:
    """Record the message and its outbox row: its id; None if its cause already made one (the key is taken), or
    if `customer` (read by `locked_recipient` in this transaction) was erased."""
    config = config_of(session)
    link = None
    if customer is not None:
        if customer.erased:  # held since `locked_recipient` read her: an erasure waits for this commit
            return None
        contacts = customer.contacts if contacts is None else contacts
        if template in MARKETING:
            link = await unsubscribe_url(session, customer.id, config)
    given = message_values(
        config,
        template,
        params,
        dedupe_key,
        customer_id=customer.id if customer is not None else None,
        name=customer.name if customer is not None else None,
        contacts=contacts or {},
        unsubscribe=link,
        order_id=order_id,
        campaign=campaign,
    )
    # One statement: a key already taken (its cause seen before, or two writers with one cause at once: the
    # second waits for the first) inserts nothing and returns no id. It was four: the key looked up, then the
    # INSERT in a SAVEPOINT to step back from the unique key's error.
    values = _INSERT.values(given)
    if await session.scalar(_INSERT.statement, values) is None:
        return None
    made: UUID = values["id"]
    await enqueue_now(session, TOPIC, str(made), {"notification_id": str(made)})
    return made


# What `message_values` gives; the table's other defaults are filled in by the statement's `values`.
_GIVEN = (
    "customer_id",
    "order_id",
    "channel",
    "to",
    "contacts",
    "purpose",
    "template",
    "locale",
    "subject",
    "body",
    "params",
    "unsubscribe_url",
    "dedupe_key",
    "campaign",
)
_INSERT = Upsert(cast(Table, Notification.__table__), _GIVEN, conflict=["dedupe_key"], returning=["id"])


def build_message(
    config: NotifyConfig, template: Template, params: Mapping[str, Any], dedupe_key: str, **fields: Any
) -> Notification:
    """The message row of `message_values` (same arguments), rendered now in the shop's locale; not yet added to
    any session."""
    return Notification(**message_values(config, template, params, dedupe_key, **fields))


def message_values(
    config: NotifyConfig,
    template: Template,
    params: Mapping[str, Any],
    dedupe_key: str,
    *,
    customer_id: UUID | None,
    name: str | None,
    contacts: Mapping[str, str],
    unsubscribe: str | None,
    order_id: UUID | None = None,
    campaign: str | None = None,
) -> dict[str, Any]:
    """The message's columns, rendered now in the shop's locale (`queue_message` inserts them as they are, with
    no ORM object to build)."""
    values: dict[str, Any] = {"shop": config.shop_name, **params}
    if name is not None:
        values.setdefault("name", name)
    if unsubscribe is not None:
        values["unsubscribe"] = unsubscribe
    rendered = render(template, config.locale, values)
    first = next((c for c in config.channels if c in contacts), config.channels[0])
    return {
        "customer_id": customer_id,
        "order_id": order_id,
        "channel": first,
        "to": contacts.get(first, ""),
        "contacts": dict(contacts),
        "purpose": str(PURPOSE[template]),
        "template": str(template),
        "locale": config.locale,
        "subject": rendered.subject[:300],
        "body": rendered.body,
        "params": text_params(values),
        "unsubscribe_url": unsubscribe,
        "dedupe_key": dedupe_key[:200],
        "campaign": campaign,
    }
