"""The edit window: a new order goes to its courier only once it has been left alone for a while.

For `ORDERS_EDIT_WINDOW_MINUTES` (or the dashboard's setting) after the order was created, or after the
customer's last change through her link, a ship request is held: it is scheduled (a `ship_schedules` row, shown
as `ship_at`) and an outbox message falls due then. Most changes so happen before any courier order exists: no
GHTK cancel-and-recreate, no GHN update limits. When the message falls due the window is measured again: a
change she made meanwhile holds the order longer (the message is put back for then); otherwise the order is
handed over, with the courier that was chosen. Staff can send a scheduled order at once ("send now").

The time is the service's one clock (infra/clock.py), so tests set it instead of waiting.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderEvent, ShopSetting
from orders_service.db.schedule_models import ShipSchedule
from orders_service.domain.errors import DomainError, InvalidTransition
from orders_service.domain.model import Actor, ActorKind, OrderStatus
from orders_service.domain.status import check_transition
from orders_service.infra import clock
from orders_service.infra.outbox import enqueue
from orders_service.infra.settings import Settings
from orders_service.orders.loader import read_order
from orders_service.orders.services import check_precondition, get_order, record_note
from orders_service.shipping.registry import CourierRegistry
from orders_service.shipping.services import ship_order
from orders_service.shop_settings.services import SHIPPING, shipping_of, shipping_rules

log = logging.getLogger(__name__)
HANDOVER_TOPIC = "shipping.handover"
SYSTEM = Actor(kind=ActorKind.SYSTEM, id="edit-window")
_SCHEDULES = cast(Table, ShipSchedule.__table__)
_LATER = aliased(OrderRow)


def _started(order_id: Any) -> Select[tuple[datetime.datetime]]:
    """When the window started: the order's creation or the customer's last change (her events)."""
    return select(func.max(OrderEvent.at)).where(
        OrderEvent.order_id == order_id, or_(OrderEvent.seq == 1, OrderEvent.actor_kind == str(ActorKind.CUSTOMER))
    )


def _closes(started: datetime.datetime | None, minutes: int) -> datetime.datetime | None:
    return None if minutes <= 0 or started is None else started + datetime.timedelta(minutes=minutes)


# What a ship reads besides the order, in the order's own locked SELECT (orders/loader.py's `along`) instead of
# statements of their own: what an admin saved of the shop's shipping rules (its edit window), the courier of the
# order's schedule (None: not scheduled), when its window started, and the order's last_seq as the statement's
# snapshot saw it. Built once: the SELECT carrying them is then built and compiled once too.
_ALONG = (
    select(ShopSetting.value).where(ShopSetting.key == SHIPPING).scalar_subquery(),
    select(ShipSchedule.courier).where(ShipSchedule.order_id == OrderRow.id).scalar_subquery(),
    _started(OrderRow.id).scalar_subquery(),
    select(_LATER.last_seq).where(_LATER.id == OrderRow.id).scalar_subquery(),
)


async def hold_until(session: AsyncSession, order_id: UUID, minutes: int) -> datetime.datetime | None:
    """When the window closes: `minutes` after the order's creation or the customer's last change; None: no
    window."""
    if minutes <= 0:
        return None
    return _closes(await session.scalar(_started(order_id)), minutes)


async def window_minutes(session: AsyncSession, settings: Settings) -> int:
    return (await shipping_rules(session, settings)).edit_window_minutes


async def free_until(
    session: AsyncSession, row: OrderRow, settings: Settings, minutes: int | None = None
) -> datetime.datetime | None:
    """Until when her changes come before any courier order (the edit window), while that is still ahead.
    `minutes`: the window in force, when the caller read it already."""
    if row.status not in (OrderStatus.PENDING, OrderStatus.CONFIRMED) or row.shipment is not None:
        return None
    minutes = await window_minutes(session, settings) if minutes is None else minutes
    until = await hold_until(session, row.id, minutes)
    return until if until is not None and until > clock.now() else None


async def ship_at(session: AsyncSession, order_id: UUID, settings: Settings) -> datetime.datetime | None:
    """When a scheduled order goes to its courier: its schedule, or later if she changed it since; else None."""
    scheduled = await session.scalar(select(ShipSchedule.ship_at).where(ShipSchedule.order_id == order_id))
    if scheduled is None:
        return None
    until = await hold_until(session, order_id, await window_minutes(session, settings))
    return max(scheduled, until) if until is not None else scheduled


async def ship_or_schedule(
    session: AsyncSession,
    order_id: UUID,
    if_match: str | None,
    actor: Actor,
    couriers: CourierRegistry,
    settings: Settings,
    courier: str | None = None,
    *,
    now: bool = False,
) -> tuple[OrderRow, datetime.datetime | None]:
    """Ship at once (`now`, no window, or the window closed), else schedule: (the order, when it will go)."""
    await begin_write(session)
    # The shop's window, the schedule and the window's start come with the order, in the write: no statements of
    # their own.
    row, (saved, scheduled, started, seen_seq) = await read_order(session, order_id, True, _ALONG)
    minutes = shipping_of(settings, saved).edit_window_minutes
    check_precondition(if_match, row.version)
    if seen_seq != row.last_seq:
        # PostgreSQL: the order changed while its lock was awaited. The lock returns the row as committed since,
        # but the subqueries saw the statement's snapshot, from before: a schedule or her change (each written
        # with an event, so with the order's last_seq) is read again, now.
        scheduled = await session.scalar(select(ShipSchedule.courier).where(ShipSchedule.order_id == order_id))
        started = await session.scalar(_started(order_id))
    until = None if now else _closes(started, minutes)
    if until is None or clock.now() >= until:
        if scheduled is not None:
            courier = courier or scheduled
            await session.execute(_SCHEDULES.delete().where(_SCHEDULES.c.order_id == order_id))
        return await ship_order(session, order_id, if_match, actor, couriers, courier, row=row), None
    # Held: refused now for what the ship itself would refuse, not when it falls due.
    check_transition(OrderStatus(row.status), OrderStatus.READY_TO_SHIP)
    courier = courier or scheduled or row.courier
    couriers.get(courier)
    if row.shipment is not None:
        raise InvalidTransition("the order already has a courier order")
    if scheduled is None:
        session.add(ShipSchedule(order_id=row.id, ship_at=until, courier=courier, requested_by=actor.id))
    else:
        moved = _SCHEDULES.update().where(_SCHEDULES.c.order_id == order_id)
        await session.execute(moved.values(ship_at=until, courier=courier))
    record_note(session, row, actor, "ship_scheduled", f"goes to {courier.upper()} at {until.isoformat()}")
    _due_at(session, row.id, minutes, until)
    await session.flush()
    return row, until


def _due_at(session: AsyncSession, order_id: UUID, minutes: int, at: datetime.datetime) -> None:
    message = enqueue(session, HANDOVER_TOPIC, str(order_id), {"order_id": str(order_id), "minutes": minutes})
    message.available_at = at


async def hand_over(
    db: async_sessionmaker[AsyncSession], couriers: CourierRegistry, order_id: UUID, minutes: int
) -> str:
    """The relay's handler for a due schedule: hand the order over, or put it back if she changed it since."""
    async with db() as session, session.begin():
        await begin_write(session)
        schedule = await session.scalar(select(ShipSchedule).where(ShipSchedule.order_id == order_id))
        if schedule is None:
            return "not scheduled"  # sent at once by staff, or an older message of a schedule since moved
        until = await hold_until(session, order_id, minutes)
        if until is not None and clock.now() < until:
            schedule.ship_at = max(schedule.ship_at, until)
            _due_at(session, order_id, minutes, schedule.ship_at)
            row = await get_order(session, order_id, lock=True)
            note = f"held until {schedule.ship_at.isoformat()}: the customer changed the order"
            record_note(session, row, SYSTEM, "ship_rescheduled", note)
            return "rescheduled"
        if clock.now() < schedule.ship_at:
            return "not yet"  # an older message: a later one falls due at ship_at
        row = await get_order(session, order_id, lock=True)
        courier = schedule.courier
        await session.delete(schedule)
        try:
            await ship_order(session, order_id, f'"{row.version}"', SYSTEM, couriers, courier, row=row)
        except DomainError as refused:  # cancelled meanwhile, or the courier's account removed: said, not retried
            record_note(session, row, SYSTEM, "ship_dropped", f"not handed over to {courier.upper()}: {refused}")
            log.info("scheduled ship of %s dropped: %s", order_id, refused)
            return "dropped"
        return "handed over"
