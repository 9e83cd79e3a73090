"""Order use cases; each runs inside the request's transaction and never commits (the edge does)."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from uuid_utils.compat import uuid7

from orders_service.catalogue import pricing, stock
from orders_service.customers.services import find_or_create_customer, survivor_of
from orders_service.db.engine import begin_write
from orders_service.db.models import Customer, OrderEvent
from orders_service.db.models import Order as OrderRow
from orders_service.domain.amend import amend, new_order
from orders_service.domain.diff import diff
from orders_service.domain.errors import (
    DomainError,
    InvalidField,
    InvalidTransition,
    OrderNotAmendable,
    PreconditionRequired,
    VersionMismatch,
)
from orders_service.domain.model import Actor, Order, OrderStatus, Recipient, Shipping, replace
from orders_service.domain.money import compute_totals
from orders_service.domain.operations import Operation, RedeemPoints
from orders_service.domain.phones import normalise_phones
from orders_service.domain.status import check_transition
from orders_service.infra.outbox import Message, enqueue
from orders_service.loyalty import points
from orders_service.loyalty.program import program_of
from orders_service.messaging import triggers
from orders_service.ops import metrics
from orders_service.orders import mapping, pending, store
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.loader import NO_SOURCES, get_order, read_order
from orders_service.orders.outside import OUTSIDE
from orders_service.orders.schemas import OrderIn
from orders_service.shipping import requote

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read out on the phone


BEFORE_PICKUP = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.READY_TO_SHIP})


def new_code() -> str:
    return "DH" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def check_precondition(if_match: str | None, current: int) -> None:
    """If-Match must carry the current ETag ("<version>").

    `*` is refused like a missing header (428): RFC 9110 lets it match any version, which would turn the
    optimistic lock off, and every change here is made against a version someone saw.
    """
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(f'send If-Match with the order\'s ETag, currently "{current}"')
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        raise PreconditionRequired(
            f'If-Match: * would match any version: send the version you saw, the order\'s ETag (now "{current}")'
        )
    if f'"{current}"' not in tags:
        raise VersionMismatch(current)


async def _customer_for(session: AsyncSession, data: OrderIn) -> Customer:
    if data.customer_id is not None:
        if data.customer is not None:
            raise InvalidField("customer", "give customer_id or customer, not both")
        customer = await session.get(Customer, data.customer_id)
        if customer is None:
            raise InvalidField("customer_id", f"no customer {data.customer_id}")
        return await survivor_of(session, customer)
    if data.customer is None:
        raise InvalidField("customer_id", "give customer_id, or customer with full_name and phones")
    return await find_or_create_customer(session, data.customer, "customer.")


def change_of(
    row: OrderRow,
    actor: Actor,
    kind: str,
    before: Order | None,
    after: Order,
    operations: Sequence[Operation] = (),
    reason: str | None = None,
    *,
    version: int | None = None,
) -> tuple[dict[str, Any], Message]:
    """The event of the order's next sequence number at its current version (or `version`, the one about to be
    written), and the outbox message after it."""
    version = row.version if version is None else version
    changes = diff(before, after)
    cod_after = compute_totals(after).cod_amount
    event = {
        "order_id": row.id,
        "seq": row.last_seq + 1,
        "actor_kind": str(actor.kind),
        "actor_id": actor.id,
        "type": kind,
        "reason": reason,
        "operations": [msgspec.to_builtins(op) for op in operations],
        "changes": changes,
        "cod_before": None if before is None else compute_totals(before).cod_amount,
        "cod_after": cod_after,
        "version": version,
    }
    payload = {"order_id": str(row.id), "version": version, "cod_amount": cod_after, "changed": sorted(changes)}
    return event, Message(f"order.{kind}", str(row.id), payload)


def record_change(
    session: AsyncSession,
    row: OrderRow,
    actor: Actor,
    kind: str,
    before: Order | None,
    after: Order,
    operations: Sequence[Operation] = (),
    reason: str | None = None,
) -> None:
    """Append the order's event for its current version and the outbox message that follows it."""
    event, message = change_of(row, actor, kind, before, after, operations, reason)
    row.last_seq = event["seq"]
    session.add(OrderEvent(**event))
    enqueue(session, *message)


def record_note(session: AsyncSession, row: OrderRow, actor: Actor, kind: str, note: str) -> None:
    """An event that changes nothing of the order (no new version, nothing for the relay): the timeline's."""
    event = note_of(row, actor, kind, note)
    row.last_seq = event["seq"]
    session.add(OrderEvent(**event))


def note_of(row: OrderRow, actor: Actor, kind: str, note: str) -> dict[str, Any]:
    """The columns of `record_note`'s event: the order's next sequence number, at its current version."""
    return {
        "order_id": row.id,
        "seq": row.last_seq + 1,
        "actor_kind": str(actor.kind),
        "actor_id": actor.id,
        "type": kind,
        "reason": note[:500],
        "operations": [],
        "changes": {},
        "cod_before": row.cod_amount,
        "cod_after": row.cod_amount,
        "version": row.version,
    }


async def create_order(session: AsyncSession, data: OrderIn, actor: Actor, discounts: DiscountPolicy) -> OrderRow:
    await begin_write(session)
    customer = await _customer_for(session, data)
    percent, reason = await discounts.for_customer(session, customer.id)
    recipient = Recipient(
        name=data.recipient.name.strip(),
        phones=tuple(normalise_phones(data.recipient.phones, "recipient.phones", vietnam_only=True)),
        address=data.recipient.domain_address(),
    )
    if not recipient.name:
        raise InvalidField("recipient.name", "the recipient needs a name")
    order = new_order(
        recipient,
        await pricing.price_lines(session, data.lines),  # catalogue prices where left out
        Shipping(fee=data.shipping.fee, payer=data.shipping.payer),
        data.prepaid,
        mapping.new_line_id,
        courier=data.courier,
        note=data.note,
        discount_percent=percent,
        discount_reason=reason,
        outside=OUTSIDE,
    )
    # Its id and first sequence number known before the INSERT, so that the order, its event and its outbox row
    # go in one flush (no UPDATE of last_seq after the INSERT).
    row = OrderRow(
        id=uuid7(),
        code=new_code(),
        version=1,
        last_seq=0,
        customer_id=customer.id,
        channel=str(data.channel),
        lines=[],
    )
    mapping.write(row, order)
    session.add(row)
    record_change(session, row, actor, "created", None, order)
    await stock.reserve(session, row, order)  # the catalogue's stock, weight and size of its lines
    await session.flush()
    # A new order has no parcel, and nothing was merged into it: the answer asks the database neither.
    set_committed_value(row, "shipment", None)
    session.info.setdefault(NO_SOURCES, set()).add(row.id)
    return row


async def amend_order(
    session: AsyncSession,
    order_id: UUID,
    if_match: str | None,
    operations: Sequence[Operation],
    reason: str | None,
    actor: Actor,
    *,
    dry_run: bool = False,
    discounts: DiscountPolicy | None = None,
) -> tuple[OrderRow, Order | None]:
    """Apply `operations` atomically. A dry run returns the would-be order and writes nothing.

    Counted in `orders_amendments_total` by actor kind and outcome (applied, dry_run, or the domain error).
    """
    try:
        fee = await requote.fee_after(session, order_id, operations)  # a new address re-prices the parcel
        found = await _amend_order(
            session, order_id, if_match, operations, reason, actor, dry_run=dry_run, discounts=discounts, fee=fee
        )
    except DomainError as error:
        metrics.amendment(str(actor.kind), metrics.error_outcome(error))
        raise
    metrics.amendment(str(actor.kind), "dry_run" if dry_run else "applied")
    return found


async def _amend_order(
    session: AsyncSession,
    order_id: UUID,
    if_match: str | None,
    operations: Sequence[Operation],
    reason: str | None,
    actor: Actor,
    *,
    dry_run: bool,
    discounts: DiscountPolicy | None,
    fee: int | None = None,
) -> tuple[OrderRow, Order | None]:
    """Before the parcel is picked up, the discount follows the customer's tier now (`discounts`), so an order
    amended after she moved up a tier gets her new percent; the event records the change.
    """
    if not dry_run:
        await begin_write(session)
    # Her tier comes in the order's own SELECT: one statement fewer, and one turn fewer under the write lock.
    tier = discounts.read_along(OrderRow.customer_id) if discounts is not None else None
    row, tier_read = await read_order(session, order_id, not dry_run, tier, stock_read=True)
    if not dry_run or if_match:
        check_precondition(if_match, row.version)
    waiting = pending.waiting_reason(row)
    if waiting is not None:  # the courier may yet deliver the parcel as it is: nothing else changes meanwhile
        raise OrderNotAmendable(f"no change is possible: {waiting}")
    before = mapping.to_domain(row)
    # The capability table speaks each courier's own status names.
    courier_status = (row.shipment.raw_status or row.shipment.status) if row.shipment is not None else None
    current = before
    if discounts is not None and before.status in BEFORE_PICKUP:
        percent, why = (
            discounts.from_read(session, tier_read)
            if tier is not None
            else await discounts.for_customer(session, row.customer_id)
        )
        current = replace(before, discount_percent=percent, discount_reason=why)
    value = program_of(session).vnd_per_redeemed_point
    operations = await pricing.price_operations(session, operations, before)  # catalogue prices where left out
    after = amend(
        current, operations, actor, mapping.new_line_id, courier_status, outside=OUTSIDE, vnd_per_redeemed_point=value
    )
    after = requote.apply_fee(after, fee)
    # Redeemed points are paid in with `paid`; the ledger gives them out in the same transaction, or refuses.
    wanted = [(i, op.points) for i, op in enumerate(operations) if isinstance(op, RedeemPoints)]
    if wanted:
        now = datetime.datetime.now(datetime.UTC)
        await points.redeem(session, row, wanted, f"v{row.version + 1}", now, write=not dry_run)
    if dry_run:
        if after.lines != before.lines:  # the preview says out-of-stock as the change would
            await stock.check(session, row, after, stock.amendment_fields(operations, before))
        return row, after
    if after.lines != before.lines:  # reservations follow the lines (409 out-of-stock naming the operation)
        await stock.move(session, [(row, after)], stock.amendment_fields(operations, before))
    version = row.version + 1
    event, message = change_of(row, actor, "amended", before, after, operations, reason, version=version)
    # The relay makes her message from the second outbox row, off the request's path.
    amended = triggers.order_amended(row, event)
    await session.run_sync(store.write_amendment, store.Writes(row, after, event, [message, amended]))
    return row, None


async def move_order(
    session: AsyncSession,
    order_id: UUID,
    if_match: str | None,
    target: OrderStatus,
    actor: Actor,
    reason: str | None,
) -> OrderRow:
    """Confirm or cancel: a status move through the machine, with its event and outbox message.

    A cancel while the courier holds a live parcel only asks for it: the order gets `pending_cancel` and keeps
    its COD until the courier confirms (orders/pending.py); the caller answers 202 for such an order.
    """
    await begin_write(session)
    row = await get_order(session, order_id, lock=True)
    check_precondition(if_match, row.version)
    waiting = pending.waiting_reason(row)
    if waiting is not None:
        raise InvalidTransition(waiting)
    before = mapping.to_domain(row)
    check_transition(before.status, target)
    if target is OrderStatus.CANCELLED and pending.has_live_parcel(row):
        pending.mark(row, actor, reason, pending.Purpose.CANCEL, datetime.datetime.now(datetime.UTC))
        row.version += 1
        note = f"waits for {row.shipment.courier.upper() if row.shipment else row.courier} to confirm the cancellation"
        record_change(session, row, actor, "cancel_requested", before, before, reason=_with(note, reason))
        await session.flush()
        return row
    if target is OrderStatus.CANCELLED:
        await cancel_now(session, row, actor, reason)
        return row
    after = replace(before, status=target)
    mapping.write(row, after)
    row.version += 1
    record_change(session, row, actor, str(target), before, after, reason=reason)
    await session.flush()
    return row


def _with(note: str, reason: str | None) -> str:
    return f"{note}: {reason}" if reason else note


async def cancel_now(session: AsyncSession, row: OrderRow, actor: Actor, reason: str | None) -> None:
    """The order becomes cancelled: its COD goes to 0, and the points spent on it go back to her ledger."""
    before = mapping.to_domain(row)
    check_transition(before.status, OrderStatus.CANCELLED)
    # The points' value is no longer money the shop owes back.
    returned = await points.refund_redeemed(session, row, datetime.datetime.now(datetime.UTC))
    value = returned * program_of(session).vnd_per_redeemed_point
    after = replace(before, status=OrderStatus.CANCELLED, paid=max(0, before.paid - value))
    mapping.write(row, after)
    row.version += 1
    record_change(session, row, actor, str(OrderStatus.CANCELLED), before, after, reason=reason)
    await stock.release(session, row)  # what it held goes back to available
    await session.flush()


async def list_events(session: AsyncSession, order_id: UUID) -> list[OrderEvent]:
    await get_order(session, order_id)
    rows = await session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq))
    return list(rows)
