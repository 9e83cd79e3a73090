"""Customers' own data (Decree 13/2023): staff correct her profile, and an admin erases it on her request.

Erasure replaces who she is (names, phones, emails, buyer ids, addresses, notes, message texts) by placeholders
everywhere it was kept, orders included; money, events, the points ledger and the counts keep their numbers so
the shop's books still add up. Not while a parcel of hers is with a courier or an order is still open: the courier
needs her address, and an open order would ship to a placeholder.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.customers.models import CustomerAudit
from orders_service.customers.schemas import CustomerPatch, ErasureOut
from orders_service.customers.scrub import PLACEHOLDER, Scrubber
from orders_service.customers.services import get_customer, identity_owner_of
from orders_service.db.engine import begin_write
from orders_service.db.models import (
    CourierInbox,
    Customer,
    CustomerIdentity,
    CustomerMerge,
    CustomerPhone,
    EditLink,
    Notification,
    OrderEvent,
    OutboxMessage,
    Shipment,
    StaffAlert,
    UnsubscribeToken,
)
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import CustomerErased, CustomerMerged, ErasureBlocked, IdentityTaken, InvalidField
from orders_service.domain.identities import normalise_identities
from orders_service.domain.model import Actor, OrderStatus
from orders_service.geo import fold
from orders_service.infra import clock

S = OrderStatus
# Why each kind of order stops an erasure; every other status is finished (delivered, returned, cancelled, merged).
BLOCKING = {
    **dict.fromkeys(
        (S.READY_TO_SHIP, S.IN_TRANSIT, S.NEEDS_REVIEW, S.RETURNING),
        "the parcel is in the courier's hands: wait until it is delivered or back",
    ),
    **dict.fromkeys(
        (S.PENDING, S.CONFIRMED), "the order is still open: cancel it first, or it would ship to an erased address"
    ),
}


def actor_name(actor: Actor) -> str:
    return (actor.id or str(actor.kind))[:64]


async def _writable(session: AsyncSession, customer_id: UUID) -> Customer:
    customer = await get_customer(session, customer_id)
    if customer.erased_at is not None:
        raise CustomerErased(str(customer.id))
    if customer.merged_into_id is not None:
        raise CustomerMerged("customer_id", str(customer.id), str(customer.merged_into_id))
    return customer


async def update_customer(session: AsyncSession, customer_id: UUID, data: CustomerPatch, actor: Actor) -> Customer:
    """Change what staff may change; an email moves her email identity with it (409 if another profile has it)."""
    await begin_write(session)
    customer = await _writable(session, customer_id)
    changed: list[str] = []
    if not isinstance(data.full_name, msgspec.UnsetType):
        name = data.full_name.strip()
        if not name:
            raise InvalidField("full_name", "give the customer's name")
        customer.full_name, customer.search_name = name, fold(name).lower()
        changed.append("full_name")
    if not isinstance(data.email, msgspec.UnsetType):
        await _set_email(session, customer, data.email)
        changed.append("email")
    if not isinstance(data.birthday, msgspec.UnsetType):
        if data.birthday is not None and data.birthday > clock.now().date():
            raise InvalidField("birthday", "a birthday cannot be in the future")
        customer.birthday = data.birthday
        changed.append("birthday")
    if not isinstance(data.gender, msgspec.UnsetType):
        customer.gender = None if data.gender is None else str(data.gender)
        changed.append("gender")
    if not isinstance(data.tags, msgspec.UnsetType):
        customer.tags = list(dict.fromkeys(data.tags))
        changed.append("tags")
    if not isinstance(data.note, msgspec.UnsetType):
        customer.note = data.note.strip() or None if data.note is not None else None
        changed.append("note")
    # Which fields, not their values: the audit must not become a second copy of her data.
    session.add(
        CustomerAudit(customer_id=customer.id, action="update", actor=actor_name(actor), detail={"fields": changed})
    )
    await session.flush()
    return customer


async def _set_email(session: AsyncSession, customer: Customer, email: str | None) -> None:
    old = customer.email
    new = normalise_identities([("email", email, "email")])[0][1] if email is not None else None
    if new == old:
        return
    if new is not None:
        owner = await identity_owner_of(session, [("email", new)])
        if owner is not None and owner.id != customer.id:
            raise IdentityTaken("email", new, str(owner.id))
    customer.identities = [i for i in customer.identities if not (i.kind == "email" and i.value == old)]
    if new is not None and all((i.kind, i.value) != ("email", new) for i in customer.identities):
        customer.identities.append(CustomerIdentity(kind="email", value=new))
    customer.email = new


async def profiles_of(session: AsyncSession, customer: Customer) -> list[Customer]:
    """Her profile and every duplicate merged into it (directly or through another duplicate)."""
    found, frontier = [customer], [customer.id]
    while frontier:
        more = list(await session.scalars(select(Customer).where(Customer.merged_into_id.in_(frontier))))
        found += more
        frontier = [c.id for c in more]
    return found


async def erase_customer(session: AsyncSession, customer_id: UUID, actor: Actor) -> ErasureOut:
    """Replace her personal data everywhere by placeholders; a second erasure answers the first one's result."""
    await begin_write(session)
    customer = await get_customer(session, customer_id)
    if customer.merged_into_id is not None:
        raise CustomerMerged("customer_id", str(customer.id), str(customer.merged_into_id))
    if customer.erased_at is not None:
        done = await session.scalar(
            select(CustomerAudit)
            .where(CustomerAudit.customer_id == customer.id, CustomerAudit.action == "erase")
            .order_by(CustomerAudit.at.desc())
        )
        counts = done.detail if done is not None else {}
        return ErasureOut(customer_id=customer.id, erased_at=customer.erased_at, **_counts(counts))
    profiles = await profiles_of(session, customer)
    ids = [p.id for p in profiles]
    # Her orders, then her profiles, locked in the order every writer takes them (order, then customer), before
    # anything is read for scrubbing: a message being made for her meanwhile (it holds her profile, see
    # messaging.queue) is committed first and scrubbed here, or waits and then sees her erased.
    orders = list(
        await session.scalars(
            select(OrderRow)
            .where(OrderRow.customer_id.in_(ids))
            .order_by(OrderRow.created_at)
            .with_for_update(of=OrderRow, key_share=True)
        )
    )
    # FOR NO KEY UPDATE (key_share): a message's row referencing one of her orders takes a KEY SHARE lock on it
    # and must not wait for this, or it and this wait on each other (a deadlock seen on PostgreSQL).
    await session.execute(
        select(Customer.id).where(Customer.id.in_(ids)).order_by(Customer.id).with_for_update(key_share=True)
    )
    blocking = [(str(o.id), f"{o.code}: {BLOCKING[S(o.status)]}") for o in orders if S(o.status) in BLOCKING]
    if blocking:
        raise ErasureBlocked(blocking)
    now = clock.now()
    scrubber = Scrubber(_known_values(profiles, orders))
    order_ids = [o.id for o in orders]
    events = await _scrub_orders(session, scrubber, orders, now)
    notifications = await _scrub_messages(session, scrubber, ids, order_ids)
    # Every merge that touched her moved a duplicate into one of `ids` (a profile merged away cannot be erased).
    for merge in await session.scalars(select(CustomerMerge).where(CustomerMerge.into_id.in_(ids))):
        merge.summary = scrubber.json(merge.summary)
        merge.reason = scrubber.text(merge.reason)
    for model in (CustomerPhone, CustomerIdentity, UnsubscribeToken):
        for row in await session.scalars(select(model).where(model.customer_id.in_(ids))):
            await session.delete(row)
    for profile in profiles:
        profile.full_name, profile.search_name = PLACEHOLDER, ""
        profile.email = profile.birthday = profile.gender = profile.note = None
        profile.tags = []
        profile.erased_at = now
    counts = {"profiles": len(profiles), "orders": len(orders), "events": events, "notifications": notifications}
    session.add(CustomerAudit(customer_id=customer.id, action="erase", actor=actor_name(actor), at=now, detail=counts))
    await session.flush()
    for profile in profiles:
        await session.refresh(profile, ["phones", "identities"])
    return ErasureOut(customer_id=customer.id, erased_at=now, **_counts(counts))


def _counts(detail: dict[str, Any]) -> dict[str, int]:
    return {key: int(detail.get(key, 0)) for key in ("profiles", "orders", "events", "notifications")}


def _known_values(profiles: Iterable[Customer], orders: Iterable[OrderRow]) -> list[str]:
    values: list[str] = []
    for p in profiles:
        values += [p.full_name, p.email or "", *(x.e164 for x in p.phones), *(i.value for i in p.identities)]
    for o in orders:
        values += [o.recipient_name, o.address_line, *(o.recipient_phones or [])]
    return values


async def _scrub_orders(
    session: AsyncSession, scrubber: Scrubber, orders: list[OrderRow], now: datetime.datetime
) -> int:
    order_ids = [o.id for o in orders]
    for order in orders:
        order.recipient_name, order.recipient_phones = PLACEHOLDER, []
        order.address_line, order.note = PLACEHOLDER, None
        order.pending_cancel = scrubber.json(order.pending_cancel)
    events = list(await session.scalars(select(OrderEvent).where(OrderEvent.order_id.in_(order_ids))))
    for event in events:
        event.operations = scrubber.json(event.operations)
        event.changes = scrubber.json(event.changes)
        event.reason = scrubber.text(event.reason)
    shipments = list(await session.scalars(select(Shipment).where(Shipment.order_id.in_(order_ids))))
    for shipment in shipments:
        shipment.synced, shipment.refused = scrubber.json(shipment.synced), scrubber.json(shipment.refused)
        shipment.last_error = scrubber.text(shipment.last_error)
    codes = [code for s in shipments for code in (s.tracking_code, s.return_code) if code]
    if codes:
        for row in await session.scalars(select(CourierInbox).where(CourierInbox.tracking_code.in_(codes))):
            row.payload = scrubber.json(row.payload)
    for message in await session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.in_([str(i) for i in order_ids]))
    ):
        message.payload = scrubber.json(message.payload)
        message.last_error = scrubber.text(message.last_error)
    for alert in await session.scalars(select(StaffAlert).where(StaffAlert.order_id.in_(order_ids))):
        alert.message = scrubber.text(alert.message) or ""
    # Her links stop working: the page behind them would show nothing of hers any more.
    await session.execute(
        update(EditLink).where(EditLink.order_id.in_(order_ids), EditLink.revoked_at.is_(None)).values(revoked_at=now)
    )
    return len(events)


async def _scrub_messages(session: AsyncSession, scrubber: Scrubber, ids: list[UUID], order_ids: list[UUID]) -> int:
    """Messages to her keep their purpose, template, status and times; the address and the text go."""
    mine = (
        or_(Notification.customer_id.in_(ids), Notification.order_id.in_(order_ids))
        if order_ids
        else (Notification.customer_id.in_(ids))
    )
    count = 0
    for message in await session.scalars(select(Notification).where(mine)):
        message.to, message.contacts, message.params = PLACEHOLDER, {}, {}
        message.subject, message.body = scrubber.text(message.subject) or "", PLACEHOLDER
        message.unsubscribe_url = None
        if message.status == "queued":
            message.status, message.reason = "suppressed", "her personal data was erased"
        count += 1
    return count
