"""Reconciliation: ask couriers about parcels still on the way, and apply what they say like a webhook."""

from __future__ import annotations

import datetime
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from couriers.base import CourierError, Event, Status
from orders_service.db.models import Shipment
from orders_service.shipping.events import apply_event
from orders_service.shipping.registry import CourierRegistry

log = logging.getLogger(__name__)
# A delivery is applied from the courier's own report, which says what was kept and collected; a status read
# here has neither, and applying it first would make the report look stale.
REPORTED = frozenset({Status.DELIVERED, Status.PARTIALLY_DELIVERED})
DONE = [str(s) for s in (Status.DELIVERED, Status.PARTIALLY_DELIVERED, Status.RETURNED, Status.CANCELLED)]


async def reconcile_shipments(db: async_sessionmaker[AsyncSession], couriers: CourierRegistry, limit: int = 200) -> int:
    """Returns how many parcels moved on. A missed webhook costs at most one reconciliation period."""
    async with db() as session:
        rows = (
            await session.execute(
                select(Shipment.courier, Shipment.tracking_code, Shipment.client_code)
                .where(Shipment.tracking_code.is_not(None), Shipment.status.not_in(DONE))
                .order_by(Shipment.status_at.is_(None).desc(), Shipment.status_at)
                .limit(limit)
            )
        ).all()
    moved = 0
    now = datetime.datetime.now(datetime.UTC)
    for courier_name, tracking_code, client_code in rows:
        try:
            remote = await couriers.get(courier_name).detail(tracking_code)
        except (CourierError, LookupError) as error:
            log.info("reconcile: %s %s not reachable: %s", courier_name, tracking_code, error)
            continue
        if remote.status in REPORTED:
            continue
        event = Event(
            courier=courier_name,
            event_key=f"reconcile:{tracking_code}:{remote.raw_status}",
            tracking_code=tracking_code,
            client_code=client_code,
            status=remote.status,
            raw_status=remote.raw_status,
            occurred_at=now,
        )
        async with db() as session, session.begin():
            if await apply_event(session, event) == "applied":
                moved += 1
    return moved
