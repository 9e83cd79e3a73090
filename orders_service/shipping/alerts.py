"""What staff are told when a courier refuses part of a change, or a parcel needs a new label: an order event,
a StaffAlert for the dashboard, and a message to the staff recipients, all in the sync's transaction."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from couriers.capabilities import Aspect
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import StaffAlert
from orders_service.domain.model import Actor, ActorKind
from orders_service.messaging import triggers
from orders_service.orders.services import record_note

SYSTEM = Actor(kind=ActorKind.SYSTEM, id="courier-sync")
WHAT = {Aspect.RECIPIENT: "recipient", Aspect.ADDRESS: "address", Aspect.COD: "COD", Aspect.ITEMS: "items"}


async def aspects_refused(session: AsyncSession, order: OrderRow, courier: str, refused: Mapping[Aspect, str]) -> None:
    """One event and one alert per refused aspect, naming it; one message to staff listing them all."""
    for aspect, message in refused.items():
        text = f"{courier} refused the {WHAT[aspect]} change: {message}"
        record_note(session, order, SYSTEM, "sync_failed", text)
        session.add(StaffAlert(kind="sync_failed", order_id=order.id, message=text))
    summary = "; ".join(f"{WHAT[aspect]}: {message}" for aspect, message in refused.items())
    await triggers.sync_failed(session, order, courier, summary)


async def recreate_failed(session: AsyncSession, order: OrderRow, courier: str, message: str) -> None:
    """The old courier order is cancelled and the new one refused: the sync keeps trying; staff may fix the order."""
    text = f"{message}; the order has no live parcel until it is created, which is tried again"
    record_note(session, order, SYSTEM, "recreate_failed", text)
    session.add(StaffAlert(kind="recreate_failed", order_id=order.id, message=text))
    await triggers.sync_failed(session, order, courier, message)


async def label_replaced(session: AsyncSession, order: OrderRow, courier: str, old: str, new: str | None) -> None:
    """A recreate cancelled the label on the parcel: the new one must be printed and stuck on in its place."""
    text = f"{courier} order {old} is cancelled and {new} replaces it: print the new label for the parcel"
    record_note(session, order, SYSTEM, "label_replaced", text)
    session.add(StaffAlert(kind="label_replaced", order_id=order.id, message=text))
    await triggers.label_replaced(session, order, courier, new or "")
