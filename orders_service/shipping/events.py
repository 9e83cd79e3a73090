"""Courier events in: stored once under their key, then applied forward-only to shipment and order."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from couriers.base import MAX_QUANTITY, Event, Status
from orders_service.catalogue import stock
from orders_service.db.engine import begin_write
from orders_service.db.models import CourierInbox, Shipment
from orders_service.db.models import Order as OrderRow
from orders_service.db.upsert import Upsert
from orders_service.deliveries.services import ask_for_review, observed_report, partial_report, settle
from orders_service.domain.delivery import finalise_delivery
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import MAX_MONEY, Actor, ActorKind, OrderStatus, replace
from orders_service.domain.status import courier_moves
from orders_service.loyalty.services import order_moved
from orders_service.messaging import triggers
from orders_service.orders import mapping
from orders_service.orders.services import record_change
from orders_service.shipping import cancels, returns

# Higher is later. Equal ranks (a failed attempt, then out for delivery again) follow the event time.
RANK: dict[Status, int] = {
    Status.CREATED: 0,
    Status.PICKED: 1,
    Status.IN_TRANSIT: 2,
    Status.OUT_FOR_DELIVERY: 3,
    Status.DELIVERY_FAILED: 3,
    Status.RETURNING: 4,
    Status.DELIVERED: 5,
    Status.PARTIALLY_DELIVERED: 5,
    Status.RETURNED: 6,
    Status.CANCELLED: 7,
}

# The order status a courier status implies, walked through the status machine one step at a time.
ORDER_STATUS: dict[Status, OrderStatus | None] = {
    Status.CREATED: None,
    Status.PICKED: OrderStatus.IN_TRANSIT,
    Status.IN_TRANSIT: OrderStatus.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY: OrderStatus.IN_TRANSIT,
    Status.DELIVERY_FAILED: OrderStatus.IN_TRANSIT,
    Status.DELIVERED: OrderStatus.DELIVERED,
    Status.PARTIALLY_DELIVERED: OrderStatus.PARTIALLY_DELIVERED,
    Status.RETURNING: OrderStatus.RETURNING,
    Status.RETURNED: OrderStatus.RETURNED,
    Status.CANCELLED: None,
}


# The event's row, unless the same event is already in (then nothing, and no id back): a statement SQLAlchemy
# caches (db/upsert.py).
_STORE = Upsert(
    cast(Table, CourierInbox.__table__),
    ["courier", "event_key", "tracking_code", "status", "payload"],
    conflict=["courier", "event_key"],
    returning=["id"],
)
_THE_PARCEL = (Shipment.courier == bindparam("courier"), Shipment.tracking_code == bindparam("tracking_code"))
_ORDER_OF_PARCEL = (
    select(OrderRow)
    .where(OrderRow.id == select(Shipment.order_id).where(*_THE_PARCEL).scalar_subquery())
    .options(joinedload(OrderRow.lines), lazyload(OrderRow.shipment), lazyload(OrderRow.parcel))  # parcel: stock
    .with_for_update(key_share=True, of=OrderRow)
)
_PARCEL = select(Shipment).where(*_THE_PARCEL).with_for_update(key_share=True).execution_options(populate_existing=True)


async def _outcome(session: AsyncSession, inbox_id: Any, outcome: str) -> None:
    """The stored event's outcome when it was not applied (stored as applied: the usual case writes nothing)."""
    if outcome != "applied":
        await session.execute(update(CourierInbox).where(CourierInbox.id == inbox_id).values(outcome=outcome))


async def apply_event(session: AsyncSession, event: Event) -> str:
    """Returns applied, duplicate, stale (older than what we know) or unmatched (not our parcel).

    Money a courier reports is bounded like staff's (an adapter checks it first; this keeps a new one honest):
    out of range is a 422 naming the field, before anything is written, never an overflow at COMMIT.
    """
    if event.cod_collected is not None and not 0 <= event.cod_collected <= MAX_MONEY:
        raise InvalidField("cod_collected", f"{event.courier} reported a COD outside 0..{MAX_MONEY} VND")
    if any(not 0 < k.quantity <= MAX_QUANTITY for k in event.kept or ()):
        raise InvalidField("kept", f"{event.courier} reported a kept quantity outside 1..{MAX_QUANTITY}")
    await begin_write(session)
    # Stored once: a repeated event (the same key) inserts nothing, so nothing is applied twice. One statement,
    # where a SAVEPOINT around an INSERT that may fail took three.
    stored = {"courier": event.courier, "event_key": event.event_key[:200], "tracking_code": event.tracking_code,
              "status": str(event.status), "payload": msgspec.to_builtins(event)}  # fmt: skip
    inbox_id = await session.scalar(_STORE.statement, _STORE.values(stored))
    if inbox_id is None:
        return "duplicate"
    # The order first (found by its parcel, with its lines, in one statement), then its shipment: the order
    # every writer takes them in (the sync does too), so two of them never wait on each other; and the shipment
    # is read after the lock, so two events for one parcel are compared one after the other, never both against
    # the same old status. The order's own load of its shipment would read the parcel before the lock, only to
    # read it again: the locked read below is the one the order gets.
    parcel = {"courier": event.courier, "tracking_code": event.tracking_code}
    order = (await session.execute(_ORDER_OF_PARCEL, parcel)).unique().scalar_one_or_none()
    if order is None:
        outcome = await returns.apply(session, event)
        await _outcome(session, inbox_id, outcome)
        return outcome
    shipment = await session.scalar(_PARCEL, parcel)
    assert shipment is not None
    set_committed_value(order, "shipment", shipment)
    if event.return_code and shipment.return_code is None:
        shipment.return_code = event.return_code  # GHN: the refused part comes back under its own order code
    current = Status(shipment.status) if shipment.status != "pending" else Status.CREATED
    newer = RANK[event.status] > RANK[current] or (
        RANK[event.status] == RANK[current] and (shipment.status_at is None or event.occurred_at > shipment.status_at)
    )
    if not newer:
        await _outcome(session, inbox_id, "stale")
        return "stale"
    shipment.status, shipment.raw_status, shipment.status_at = str(event.status), event.raw_status, event.occurred_at
    if event.cod_collected is not None:
        shipment.cod_amount = shipment.cod_collected = event.cod_collected
    await _move_order(session, order, event)
    if event.status not in (Status.CREATED, Status.CANCELLED):
        # Picked up before the courier confirmed a cancel that waits for it: the cancel (or merge) cannot be.
        said = event.message or event.raw_status
        await cancels.refused(session, order, event.courier, f"the courier reports the parcel {event.status} ({said})")
    return "applied"


async def _move_order(session: AsyncSession, order: OrderRow, event: Event) -> None:
    target = ORDER_STATUS[event.status]
    delivered = target in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED)
    before = mapping.to_domain(order)
    # A courier's detail read by reconciliation never says which try-on options she kept: staff find out.
    unsaid = event.observed and any(line.is_tryon for line in before.lines)
    if delivered and (event.partial or unsaid) and event.kept is None:
        target = OrderStatus.NEEDS_REVIEW  # GHN and GHTK do not say what was kept: staff find out
    # Forward only: a late or repeated report never undoes a later one, nor a review.
    if target is None or not courier_moves(before.status, target):
        return
    after, reason = before, event.message
    if before.status in (OrderStatus.READY_TO_SHIP, OrderStatus.CONFIRMED) and target is not OrderStatus.IN_TRANSIT:
        after = replace(after, status=OrderStatus.IN_TRANSIT)  # a missed pickup event is implied by delivery
    if target is OrderStatus.NEEDS_REVIEW:
        reason = (observed_report if unsaid and not event.partial else partial_report)(
            event.courier, event.cod_collected, event.message
        )
        ask_for_review(session, order, reason)
        after = replace(after, status=target)
    elif delivered:
        kept = None if event.kept is None else [(k.sku, k.size, k.color, k.quantity) for k in event.kept]
        after = finalise_delivery(replace(after, status=OrderStatus.IN_TRANSIT), kept)
    else:
        after = replace(after, status=target)
    mapping.write(order, after)
    order.version += 1
    actor = Actor(kind=ActorKind.COURIER, id=event.courier)
    record_change(session, order, actor, f"courier_{event.status}", before, after, reason=reason)
    await stock.follow(session, order, before, after)  # delivered sells what she kept; came back releases
    if after.status is OrderStatus.IN_TRANSIT and before.status is not OrderStatus.IN_TRANSIT:
        triggers.order_shipped(session, order, event.courier, event.tracking_code)
    await settle(session, order, after, kept_reported=event.kept is not None)
    await order_moved(session, order, before.status, after)
    await session.flush()
