"""Delivery use cases: review a partial delivery, restock what came back, flag a COD the kept items do not explain."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue import stock
from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderReturn, StaffAlert
from orders_service.deliveries.schemas import ReturnOut, ReturnsOut, ReviewIn
from orders_service.domain.delivery import check_kept, cod_mismatch, finalise_delivery
from orders_service.domain.errors import OrderNotAmendable
from orders_service.domain.model import Actor, ActorKind, Order, OrderStatus, replace
from orders_service.domain.money import compute_totals
from orders_service.domain.returns import ReturnedItem, ReturnReason, not_kept, whole_parcel
from orders_service.domain.status import check_transition
from orders_service.loyalty.services import order_moved
from orders_service.orders import mapping
from orders_service.orders.services import check_precondition, get_order, record_change, record_note

NEEDS_REVIEW = "needs_review"
COD_MISMATCH = "cod_mismatch"


def partial_report(courier: str, cod_collected: int | None, message: str | None) -> str:
    """The reason of the event that puts an order in review: what the courier said, and what it did not."""
    collected = "no amount collected" if cod_collected is None else f"{cod_collected} VND collected"
    said = f"; {message}" if message else ""
    return f"{courier} reported a partial delivery without the items kept ({collected}){said}"[:500]


def observed_report(courier: str, cod_collected: int | None, message: str | None) -> str:
    """The reason when reconciliation read a delivery (its webhook never came) of a parcel with try-on options."""
    collected = "no amount collected" if cod_collected is None else f"{cod_collected} VND to collect"
    said = f"; {message}" if message else ""
    return (
        f"{courier} says delivered (read by reconciliation, no webhook came) without which try-on options were "
        f"kept ({collected}){said}"
    )[:500]


def ask_for_review(session: AsyncSession, row: OrderRow, reason: str) -> None:
    session.add(StaffAlert(kind=NEEDS_REVIEW, order_id=row.id, message=f"order {row.code}: {reason}"))


async def settle(session: AsyncSession, row: OrderRow, order: Order, *, kept_reported: bool) -> None:
    """After a courier's report or a review: restock what came back, and flag a COD that does not add up."""
    if order.status is OrderStatus.RETURNED:
        await _rewrite_returns(session, row.id, whole_parcel(order))
    elif kept_reported:
        await _rewrite_returns(session, row.id, not_kept(order))
    cod_collected = row.shipment.cod_collected if row.shipment is not None else None
    if cod_mismatch(order, cod_collected):
        expected = compute_totals(order).cod_amount
        message = f"the courier collected {cod_collected} VND, but what the customer kept comes to {expected} VND"
        record_note(session, row, Actor(kind=ActorKind.SYSTEM), COD_MISMATCH, message)
        session.add(StaffAlert(kind=COD_MISMATCH, order_id=row.id, message=f"order {row.code}: {message}"))


async def _rewrite_returns(session: AsyncSession, order_id: UUID, items: Sequence[ReturnedItem]) -> None:
    """The order's returns become `items`: written again whole, so a second report never counts twice."""
    await session.execute(delete(OrderReturn).where(OrderReturn.order_id == order_id))
    for item in items:
        session.add(
            OrderReturn(
                order_id=order_id,
                sku=item.sku,
                name=item.name,
                size=item.size,
                color=item.color,
                unit_price=item.unit_price,
                quantity=item.quantity,
                reason=str(item.reason),
            )
        )


async def review_delivery(
    session: AsyncSession, order_id: UUID, if_match: str | None, data: ReviewIn, actor: Actor
) -> OrderRow:
    """Staff say what the customer kept of a partial delivery the courier did not itemise."""
    await begin_write(session)
    row = await get_order(session, order_id, lock=True)
    check_precondition(if_match, row.version)
    before = mapping.to_domain(row)
    if before.status is not OrderStatus.NEEDS_REVIEW:
        raise OrderNotAmendable(f"only an order in needs_review is reviewed; this one is {before.status}")
    kept = [(item.sku, item.size, item.color, item.quantity) for item in data.kept]
    check_kept(before, kept)
    after = finalise_delivery(before, kept)
    check_transition(before.status, after.status)
    mapping.write(row, after)
    row.version += 1
    record_change(session, row, actor, "delivery_reviewed", before, after, reason=data.note)
    await stock.follow(session, row, before, after)  # what she kept is sold, the rest available again
    await session.execute(
        update(StaffAlert)
        .where(StaffAlert.order_id == row.id, StaffAlert.kind == NEEDS_REVIEW, StaffAlert.resolved_at.is_(None))
        .values(resolved_at=datetime.datetime.now(datetime.UTC))
    )
    await settle(session, row, after, kept_reported=True)
    await order_moved(session, row, before.status, after)
    await session.flush()
    return row


async def record_return(
    session: AsyncSession, order_id: UUID, if_match: str | None, reason: str | None, actor: Actor
) -> OrderRow:
    """The customer brought a delivered order back to the shop: restock it all, and undo what it counted."""
    await begin_write(session)
    row = await get_order(session, order_id, lock=True)
    check_precondition(if_match, row.version)
    before = mapping.to_domain(row)
    if before.status not in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED):
        raise OrderNotAmendable(f"only a delivered order comes back to the shop; this one is {before.status}")
    after = replace(before, status=OrderStatus.RETURNED)
    mapping.write(row, after)
    row.version += 1
    record_change(session, row, actor, "returned", before, after, reason=reason)
    await stock.restock(session, row)  # what it sold is on hand again
    await settle(session, row, after, kept_reported=False)
    await order_moved(session, row, before.status, after)
    await session.flush()
    return row


async def list_returns(session: AsyncSession, order_id: UUID) -> ReturnsOut:
    await get_order(session, order_id)
    # Ids are UUIDv7: in the order they were written, line by line.
    rows = await session.scalars(select(OrderReturn).where(OrderReturn.order_id == order_id).order_by(OrderReturn.id))
    items = [
        ReturnOut(
            sku=r.sku,
            name=r.name,
            size=r.size,
            color=r.color,
            unit_price=r.unit_price,
            quantity=r.quantity,
            reason=ReturnReason(r.reason),
        )
        for r in rows
    ]
    return ReturnsOut(
        order_id=order_id,
        items=items,
        total_quantity=sum(item.quantity for item in items),
        value=sum(item.unit_price * item.quantity for item in items),
    )
