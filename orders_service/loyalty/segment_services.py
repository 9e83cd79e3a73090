"""Segment use cases: every customer's stats in one grouped query, then the pure rules over each."""

from __future__ import annotations

import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Customer, PointsEntry
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import NotFound
from orders_service.infra import clock
from orders_service.loyalty.program import program_of
from orders_service.loyalty.schemas import SegmentOut
from orders_service.loyalty.segments import RULES, Stats, rule, segments_of
from orders_service.loyalty.services import COMPLETED
from orders_service.messaging.config import config_of


async def _all_segments(session: AsyncSession, now: datetime.datetime) -> list[tuple[UUID, list[str]]]:
    """(customer id, her segments) for every live profile, oldest id first; no per-customer query."""
    vip_spend = program_of(session).tiers[-1].min_spend
    ledger = (
        select(
            PointsEntry.customer_id.label("customer_id"),
            func.sum(PointsEntry.spend).label("spend"),
            func.sum(PointsEntry.orders_delta).label("orders"),
        )
        .group_by(PointsEntry.customer_id)
        .subquery()
    )
    last = (
        select(OrderRow.customer_id.label("customer_id"), func.max(OrderRow.created_at).label("last_order_at"))
        .where(OrderRow.status.in_([str(s) for s in COMPLETED]))
        .group_by(OrderRow.customer_id)
        .subquery()
    )
    query = (
        select(
            Customer.id,
            Customer.birthday,
            func.coalesce(ledger.c.spend, 0),
            func.coalesce(ledger.c.orders, 0),
            last.c.last_order_at,
        )
        .outerjoin(ledger, ledger.c.customer_id == Customer.id)
        .outerjoin(last, last.c.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    )
    # The shop's local day: "birthday this month" on the 1st at 06:00 in Vietnam is already the new month.
    local = now.astimezone(ZoneInfo(config_of(session).time_zone))
    out = []
    for customer_id, birthday, spend, orders, last_order_at in (await session.execute(query)).tuples():
        stats = Stats(int(orders), int(spend), last_order_at, birthday, vip_spend)
        out.append((customer_id, segments_of(stats, local)))
    return out


async def list_segments(session: AsyncSession, now: datetime.datetime | None = None) -> list[SegmentOut]:
    everyone = await _all_segments(session, now or clock.now())
    return [
        SegmentOut(name=r.name, description=r.description, count=sum(r.name in names for _, names in everyone))
        for r in RULES
    ]


async def member_ids(session: AsyncSession, name: str, now: datetime.datetime | None = None) -> list[UUID]:
    """The ids of segment `name`'s live members, in id order (a campaign walks them in this order)."""
    if rule(name) is None:
        raise NotFound("segment", name)
    everyone = await _all_segments(session, now or clock.now())
    return [customer_id for customer_id, names in everyone if name in names]


async def customers_in(
    session: AsyncSession, name: str, limit: int, offset: int, now: datetime.datetime | None = None
) -> tuple[list[Customer], int]:
    ids = await member_ids(session, name, now)
    page = ids[offset : offset + limit]
    rows = {c.id: c for c in await session.scalars(select(Customer).where(Customer.id.in_(page)))}
    return [rows[i] for i in page], len(ids)
