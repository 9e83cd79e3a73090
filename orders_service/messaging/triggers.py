"""What makes a message: each called in the transaction of the change it tells about, so both commit or neither.

The hot paths (an amendment, a courier's webhook: shipped, delivered, a tier reached on delivery) only write an
outbox row; the relay makes the message from it (`make_amended_message`), off the request's path.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.money import format_vnd
from notifications.templates import Template
from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Order
from orders_service.domain.money import compute_totals
from orders_service.infra.outbox import Message, enqueue
from orders_service.messaging.config import config_of
from orders_service.messaging.queue import Recipient, locked_recipient, queue_message, staff_contacts

# One row per message made off the request's path; its key is the message's dedupe key. The topic keeps its
# first name (amendments) so that rows already queued by an older version are still handled.
AMENDED_TOPIC = "notifications.order_amended"
OUTBOX_KEY_LENGTH = 64  # outbox.key is a VARCHAR(64)

# What the customer reads about a change, from the audit diff's fields.
KINDS = {
    "recipient.name": "recipient",
    "recipient.phones": "recipient",
    "recipient.address": "address",
    "lines": "items",
    "shipping.fee": "shipping",
    "shipping.payer": "shipping",
    "paid": "payment",
    "discount.percent": "discount",
}


def what_changed(changes: Iterable[str]) -> list[str]:
    """What she reads about a change, from the fields of its audit diff (`domain.diff`)."""
    kinds: list[str] = []
    for field in changes:
        kind = KINDS.get(field) or KINDS.get(field.split(".", 1)[0])
        if kind is not None and kind not in kinds:
            kinds.append(kind)
    return kinds


async def _customer(session: AsyncSession, row: OrderRow) -> Recipient | None:
    return await locked_recipient(session, row.customer_id)


def order_amended(row: OrderRow, event: Mapping[str, Any]) -> Message:
    """After an amendment (`event`, as `orders.services.change_of` makes it): the outbox row from which the relay
    tells her what changed and the new amount to pay on delivery.

    Only that row is written in the amendment's transaction: the message itself (her contacts, the template
    rendered, its own outbox row) is made by `make_amended_message` when the relay takes it, off the request's
    path. The gate (consent, quiet hours, the cap) decides at sending time, as for every message, and the key,
    one per version, keeps it to one message however often the relay runs it.
    """
    payload = {
        "order_id": str(row.id),
        "customer_id": str(row.customer_id),
        "code": row.code,
        "changes": what_changed(event["changes"]),
        "cod_before": event["cod_before"],
        "cod_after": event["cod_after"],
    }
    return Message(AMENDED_TOPIC, f"amended:{row.id}:v{event['version']}", payload)


def defer_message(
    session: AsyncSession,
    template: Template,
    params: Mapping[str, Any],
    key: str,
    customer_id: object,
    order_id: UUID | None = None,
) -> None:
    """The message `queue_message` would make, made instead by the relay from an outbox row of this transaction:
    her contacts are read and the template rendered then. Consent, quiet hours and the cap are decided at
    sending time as for every message, and `key` keeps it to one however often the relay runs the row."""
    payload = {"template": str(template), "params": dict(params), "customer_id": str(customer_id)}
    if order_id is not None:
        payload["order_id"] = str(order_id)
    if len(key) > OUTBOX_KEY_LENGTH:  # a long tier code: still one key per cause, within the outbox's column
        key = f"{key[:31]}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    enqueue(session, AMENDED_TOPIC, key, payload)


async def make_amended_message(db: async_sessionmaker[AsyncSession], key: str, payload: Mapping[str, Any]) -> str:
    """The relay's handler for the rows of `order_amended` and `defer_message`: queue the message (sent by
    `notifications.send`)."""
    if "template" in payload:
        template, params = Template(payload["template"]), payload["params"]
    else:  # an amendment's row
        template = Template.ORDER_AMENDED
        params = {name: payload[name] for name in ("code", "changes", "cod_before", "cod_after")}
    order_id = UUID(payload["order_id"]) if payload.get("order_id") else None
    async with db() as session, session.begin():
        await begin_write(session)
        # Her name and first phone make the message: one statement, her profile held until it is committed.
        customer = await locked_recipient(session, UUID(payload["customer_id"]))
        if customer is None:
            return "no such customer"
        made = await queue_message(session, template, params, key, customer=customer, order_id=order_id)
    return "queued" if made is not None else "already queued"


def due_on_delivery(orders: Iterable[Order]) -> int:
    """What she hands the couriers over all these parcels: a merge or split is news to her when this changes."""
    return sum(compute_totals(order).cod_amount for order in orders)


async def orders_merged(
    session: AsyncSession, row: OrderRow, codes: Sequence[str], before: Sequence[Order], after: Order
) -> UUID | None:
    """After a merge into `row` (`before`: every order as it was), if the one parcel asks another amount."""
    cod_before, cod_after = due_on_delivery(before), compute_totals(after).cod_amount
    if cod_before == cod_after:
        return None
    params = {"code": row.code, "codes": list(codes), "cod_before": cod_before, "cod_after": cod_after}
    key = f"merged:{row.id}:v{row.version}"
    return await queue_message(
        session, Template.ORDER_MERGED, params, key, customer=await _customer(session, row), order_id=row.id
    )


async def order_split(
    session: AsyncSession, row: OrderRow, before: Order, parcels: Sequence[tuple[str, Order]]
) -> UUID | None:
    """After `row` was split (`parcels`: its code and each part's, with what each is now), if the parcels
    together ask another amount than the order did: each parcel's amount and the new sum."""
    cod_before, cod_after = compute_totals(before).cod_amount, due_on_delivery(order for _, order in parcels)
    if cod_before == cod_after:
        return None
    amounts = [f"{code}: {format_vnd(compute_totals(order).cod_amount)}" for code, order in parcels]
    params = {"code": row.code, "parcels": amounts, "cod_before": cod_before, "cod_after": cod_after}
    key = f"split:{row.id}:v{row.version}"
    return await queue_message(
        session, Template.ORDER_SPLIT, params, key, customer=await _customer(session, row), order_id=row.id
    )


async def queue_edit_link_message(
    session: AsyncSession, order: OrderRow, url: str, expires_at: datetime.datetime
) -> UUID | None:
    """The customer's edit link, for the edit-link endpoint to call in its transaction (one message per link)."""
    local = expires_at.astimezone(ZoneInfo(config_of(session).time_zone)).strftime("%H:%M %d/%m/%Y")
    params = {"code": order.code, "url": url, "expires_at": local, "cod": order.cod_amount}
    # The link's token is a secret: the key keeps a digest of it, not the token.
    key = f"edit_link:{order.id}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"
    return await queue_message(
        session, Template.EDIT_LINK, params, key, customer=await _customer(session, order), order_id=order.id
    )


def order_shipped(session: AsyncSession, row: OrderRow, courier: str, tracking_code: str | None) -> None:
    """The courier picked the parcel up: it is on its way, with the amount to have ready (made by the relay)."""
    params = {
        "code": row.code,
        "courier": courier.upper(),
        "tracking_code": tracking_code or "-",
        "cod": row.cod_amount,
    }
    defer_message(session, Template.SHIPPED, params, f"shipped:{row.id}", row.customer_id, row.id)


def order_delivered(session: AsyncSession, row: OrderRow, amount: int, points: int) -> None:
    """Delivered: what it came to and the points it earned (made by the relay)."""
    params = {"code": row.code, "amount": amount, "points": points}
    defer_message(session, Template.DELIVERED, params, f"delivered:{row.id}", row.customer_id, row.id)


def return_decided(
    session: AsyncSession, row: OrderRow, request_id: object, approved: bool, refund: int, reason: str | None
) -> None:
    """Her return request was approved (with the refund) or rejected (with the shop's reason): she hears it once."""
    template = Template.RETURN_APPROVED if approved else Template.RETURN_REJECTED
    params = {"code": row.code, "amount": refund, "reason": reason or ""}
    defer_message(session, template, params, f"{template}:{request_id}", row.customer_id, row.id)


async def sync_failed(session: AsyncSession, row: OrderRow, courier: str, error: str) -> list[UUID]:
    """A courier refused a change: every staff recipient configured hears about it, once per refused version."""
    made = []
    for address in config_of(session).staff:
        params = {"code": row.code, "courier": courier.upper(), "error": error[:300]}
        key = f"sync_failed:{row.id}:v{row.version}:{address}"
        message = await queue_message(
            session, Template.SYNC_FAILED, params, key, contacts=staff_contacts(address), order_id=row.id
        )
        if message is not None:
            made.append(message)
    return made


async def label_replaced(session: AsyncSession, row: OrderRow, courier: str, tracking_code: str) -> list[UUID]:
    """A courier order was cancelled and created anew (GHTK has no amend API): staff must print the new label."""
    made = []
    for address in config_of(session).staff:
        params = {"code": row.code, "courier": courier.upper(), "tracking_code": tracking_code}
        key = f"label_replaced:{row.id}:{tracking_code}:{address}"
        message = await queue_message(
            session, Template.LABEL_REPLACED, params, key, contacts=staff_contacts(address), order_id=row.id
        )
        if message is not None:
            made.append(message)
    return made


def tier_upgraded(session: AsyncSession, customer_id: object, tier: str, percent: int, at: datetime.datetime) -> None:
    """She reached a higher tier (made by the relay, which skips a customer that no longer exists)."""
    key = f"tier:{customer_id}:{tier}:{at.date().isoformat()}"
    defer_message(session, Template.TIER_UPGRADED, {"tier": tier, "percent": percent}, key, customer_id)
