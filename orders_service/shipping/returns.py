"""GHN's return order for the part a customer refused: followed, forward only, until it is back at the shop.

GHN sends the refused part of a partial delivery back under an order of its own (`PartialReturnCode`,
couriers.md §1.8). Its reports (webhooks, or reconciliation's reads) land on the original order's timeline;
a return that ends other than back at the shop (lost, damaged) alerts staff.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from couriers.base import Event, Status
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import Shipment, StaffAlert
from orders_service.domain.model import Actor, ActorKind
from orders_service.orders.services import record_note

# Higher is later; a report never moves the return back down.
RANK: dict[Status, int] = {
    Status.CREATED: 0,
    Status.PICKED: 1,
    Status.IN_TRANSIT: 1,
    Status.OUT_FOR_DELIVERY: 1,
    Status.RETURNING: 1,
    Status.DELIVERY_FAILED: 2,  # GHN lost / damage: the return will not arrive as sent
    Status.DELIVERED: 3,
    Status.PARTIALLY_DELIVERED: 3,
    Status.RETURNED: 3,
    Status.CANCELLED: 3,
}
FINAL = frozenset({Status.RETURNED, Status.DELIVERED, Status.PARTIALLY_DELIVERED, Status.CANCELLED})
RETURN_MOVED = "return_moved"
RETURN_PROBLEM = "return_problem"


async def apply(session: AsyncSession, event: Event) -> str:
    """Applied, stale, or unmatched (no parcel of ours, nor a return of one)."""
    match = (Shipment.courier == event.courier, Shipment.return_code == event.tracking_code)
    order_id = await session.scalar(select(Shipment.order_id).where(*match))
    if order_id is None:
        return "unmatched"
    # The order first, then its shipment: the order every writer takes them in.
    order = await session.scalar(select(OrderRow).where(OrderRow.id == order_id).with_for_update(key_share=True))
    shipment = await session.scalar(
        select(Shipment).where(*match).with_for_update(key_share=True).execution_options(populate_existing=True)
    )
    assert order is not None and shipment is not None
    current = Status(shipment.return_status) if shipment.return_status else Status.CREATED
    if RANK[event.status] <= RANK[current]:
        return "stale"
    shipment.return_status = str(event.status)
    courier = event.courier.upper()
    said = f" ({event.message})" if event.message else ""
    if event.status is Status.RETURNED:
        note = f"{courier} return order {event.tracking_code}: the refused part is back at the shop{said}"
    else:
        note = f"{courier} return order {event.tracking_code}: {event.raw_status}{said}"
    record_note(session, order, Actor(kind=ActorKind.COURIER, id=event.courier), RETURN_MOVED, note)
    if event.status in (Status.DELIVERY_FAILED, Status.DELIVERED, Status.PARTIALLY_DELIVERED, Status.CANCELLED):
        session.add(StaffAlert(kind=RETURN_PROBLEM, order_id=order.id, message=f"order {order.code}: {note}"))
    return "applied"


def tracked(shipment_return_status: str | None) -> bool:
    """Whether a return order still needs reading: until it is final."""
    return shipment_return_status is None or Status(shipment_return_status) not in FINAL
