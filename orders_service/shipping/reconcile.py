"""Reconciliation: read every parcel not yet final from its courier, and apply what it says like a webhook.

A webhook whose retries ran out (GHN tries 10 times in 50 s, GHTK once or a few times) leaves an order where it
was; reconciliation catches up within one period (`ORDERS_RECONCILE_S`). What it reads goes through
`apply_event`, the webhooks' own idempotent, forward-only path: a read older than what we know changes nothing.
A delivery read this way carries no itemised report: a parcel without try-on options is delivered as sent (what
it collected is what the courier held); one with try-on options, or whose collected COD differs from what it
held, goes to staff review instead of a guess. GHN's return order for a refused part is read until it is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Callable
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from couriers.base import CourierError, Event, Remote, Status
from orders_service.db.models import Shipment
from orders_service.shipping import returns
from orders_service.shipping.events import apply_event
from orders_service.shipping.registry import CourierRegistry

log = logging.getLogger(__name__)
DONE = [str(s) for s in (Status.DELIVERED, Status.PARTIALLY_DELIVERED, Status.RETURNED, Status.CANCELLED)]
RETURN_DONE = [str(s) for s in returns.FINAL]
DELIVERED = frozenset({Status.DELIVERED, Status.PARTIALLY_DELIVERED})
PAGE = 200
CONCURRENCY = 4  # courier reads in flight at once, per pass: a pass never floods a courier nor the pool


def observed_event(courier: str, remote: Remote, now: datetime.datetime, held_cod: int | None = None) -> Event:
    """What a courier's detail says, as the event its webhook would have carried.

    `held_cod` is the COD the courier held for us: a delivery that collected another amount was partial (GHTK's
    detail has no partial flag, only `pick_money`).
    """
    status = remote.status
    partial = status is Status.PARTIALLY_DELIVERED or (
        status is Status.DELIVERED and held_cod is not None and remote.cod_amount != held_cod
    )
    if partial:
        status = Status.PARTIALLY_DELIVERED
    return Event(
        courier=courier,
        event_key=f"reconcile:{remote.tracking_code}:{remote.raw_status}:{int(partial)}",
        tracking_code=remote.tracking_code,
        client_code=remote.client_code or None,
        status=status,
        raw_status=remote.raw_status,
        occurred_at=now,
        cod_collected=remote.cod_amount if status in DELIVERED else None,
        partial=partial,
        message=f"read from {courier} by reconciliation: {remote.raw_status}",
        return_code=remote.return_code,
        observed=True,
    )


@dataclasses.dataclass(frozen=True)
class _Parcel:
    id: UUID
    courier: str
    tracking_code: str | None
    status: str
    raw_status: str | None
    cod_amount: int | None
    return_code: str | None
    return_status: str | None


async def _unfinished(db: async_sessionmaker[AsyncSession], after: UUID | None) -> list[_Parcel]:
    """The next open parcels after id `after`.

    A keyset page, written by hand rather than a repository's LimitOffset: each page costs the same however deep
    the walk is, and parcels that close between two pages do not shift the rest past it (no row skipped or seen
    twice), with no COUNT the walk does not need.
    """
    parcel_open = and_(Shipment.tracking_code.is_not(None), Shipment.status.not_in(DONE))
    return_open = and_(
        Shipment.return_code.is_not(None),
        or_(Shipment.return_status.is_(None), Shipment.return_status.not_in(RETURN_DONE)),
    )
    query = select(
        Shipment.id,
        Shipment.courier,
        Shipment.tracking_code,
        Shipment.status,
        Shipment.raw_status,
        Shipment.cod_amount,
        Shipment.return_code,
        Shipment.return_status,
    ).where(or_(parcel_open, return_open))
    if after is not None:
        query = query.where(Shipment.id > after)
    async with db() as session:
        rows = (await session.execute(query.order_by(Shipment.id).limit(PAGE))).all()
    return [_Parcel(*row) for row in rows]


async def reconcile_shipments(
    db: async_sessionmaker[AsyncSession],
    couriers: CourierRegistry,
    *,
    clock: Callable[[], datetime.datetime] | None = None,
    concurrency: int = CONCURRENCY,
    budget_s: float | None = None,
) -> int:
    """One pass over every parcel not yet final, a page at a time. Returns how many reads moved something on.

    `budget_s`: no new page is started after this long (a Celery task has a time limit; the next pass goes on).
    """
    now = (clock or (lambda: datetime.datetime.now(datetime.UTC)))()
    limit = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()
    stop_at = None if budget_s is None else loop.time() + budget_s
    moved, after = 0, None
    while stop_at is None or loop.time() < stop_at:
        page = await _unfinished(db, after)
        if not page:
            return moved

        async def one(parcel: _Parcel) -> int:
            async with limit:
                return await _reconcile(db, couriers, parcel, now)

        moved += sum(await asyncio.gather(*(one(parcel) for parcel in page)))
        if len(page) < PAGE:
            return moved
        after = page[-1].id
    return moved


async def _read(couriers: CourierRegistry, courier: str, code: str) -> Remote | None:
    try:
        return await couriers.get(courier).detail(code)
    except (CourierError, LookupError) as error:  # unreachable now, or a courier no longer configured
        log.info("reconcile: %s %s not readable: %s", courier, code, error)
        return None


async def _apply(db: async_sessionmaker[AsyncSession], event: Event) -> bool:
    async with db() as session, session.begin():
        return await apply_event(session, event) == "applied"


async def _reconcile(
    db: async_sessionmaker[AsyncSession], couriers: CourierRegistry, parcel: _Parcel, now: datetime.datetime
) -> int:
    moved = 0
    if parcel.tracking_code is not None and parcel.status not in DONE:
        remote = await _read(couriers, parcel.courier, parcel.tracking_code)
        unchanged = remote is not None and (str(remote.status), remote.raw_status) == (parcel.status, parcel.raw_status)
        if remote is not None and not unchanged:
            moved += await _apply(db, observed_event(parcel.courier, remote, now, parcel.cod_amount))
            parcel = await _return_of(db, parcel)
    if parcel.return_code is not None and returns.tracked(parcel.return_status):
        remote = await _read(couriers, parcel.courier, parcel.return_code)
        if remote is not None and str(remote.status) != parcel.return_status:
            moved += await _apply(db, observed_event(parcel.courier, remote, now))
    return moved


async def _return_of(db: async_sessionmaker[AsyncSession], parcel: _Parcel) -> _Parcel:
    """The parcel after its read was applied: a delivery may just have named GHN's return order."""
    async with db() as session:
        row = (
            await session.execute(select(Shipment.return_code, Shipment.return_status).where(Shipment.id == parcel.id))
        ).one()
    return dataclasses.replace(parcel, return_code=row.return_code, return_status=row.return_status)
