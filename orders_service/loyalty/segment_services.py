"""Segment use cases: the rules of segments.py as WHERE clauses over customer_stats, with "now" bound at query time.

Membership is never recomputed for everyone: a page is `... WHERE <rule> ORDER BY customer_id LIMIT n` on the
stats table (a walk of its primary key that stops at the page's end), the counts one pass over it. The stats hold
dates, not "days since", so a rule about recency (at risk, the RFM recency score) compares the stored last order
with a bound computed from the injected clock and stays right as time passes. `segments.py` stays the reference:
the tests check that these clauses select exactly the customers whose stats `segments_of` puts in the segment.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, extract, false, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from orders_service.db.models import Customer, CustomerStats
from orders_service.domain.errors import NotFound
from orders_service.infra import clock
from orders_service.loyalty.program import program_of
from orders_service.loyalty.schemas import SegmentOut
from orders_service.loyalty.segments import AT_RISK_DAYS, RULES, rule
from orders_service.messaging.config import config_of

BIRTHDAY = "birthday_this_month"  # the one rule on the profile, not on her orders: it reads customers
S = CustomerStats


class _Bounds:
    """The rules' thresholds for one query: recency as instants, monetary from the program's top tier."""

    def __init__(self, now: datetime.datetime, vip_spend: int) -> None:
        # segments.rfm: days = (now - last).days, floored, so "days <= 30" is "last > now - 31 days".
        self.recent = now - datetime.timedelta(days=31)
        self.lately = now - datetime.timedelta(days=AT_RISK_DAYS + 1)
        self.vip = vip_spend
        self.fifth = vip_spend // 5

    def bought(self) -> ColumnElement[bool]:
        return S.orders > 0

    def scored(self) -> ColumnElement[bool]:  # rfm() scores only a customer who bought and has a last order
        return and_(S.orders > 0, S.last_order_at.is_not(None))

    def r3(self) -> ColumnElement[bool]:
        return and_(self.scored(), S.last_order_at > self.recent)

    def r_at_least_2(self) -> ColumnElement[bool]:
        return and_(self.scored(), S.last_order_at > self.lately)

    def r1(self) -> ColumnElement[bool]:
        return and_(self.scored(), S.last_order_at <= self.lately)

    def m3(self) -> ColumnElement[bool]:
        return S.spend >= self.vip

    def m1(self) -> ColumnElement[bool]:
        return S.spend < self.fifth

    def champion(self) -> ColumnElement[bool]:
        return and_(self.r3(), S.orders >= 5, self.m3())


_CLAUSES: dict[str, Callable[[_Bounds], ColumnElement[bool]]] = {
    "new": lambda b: S.orders == 1,
    "regular": lambda b: S.orders >= 2,
    "vip": lambda b: and_(b.bought(), S.spend >= b.vip) if b.vip > 0 else false(),
    "at_risk": lambda b: and_(b.bought(), b.r1()),
    "rfm_champions": lambda b: b.champion(),
    "rfm_loyal": lambda b: and_(b.r_at_least_2(), S.orders >= 2, not_(b.champion())),
    "rfm_promising": lambda b: and_(b.r3(), S.orders == 1),
    "rfm_cant_lose": lambda b: and_(b.r1(), (S.orders >= 2) | (S.spend >= b.fifth)),
    "rfm_hibernating": lambda b: and_(b.r1(), S.orders == 1, b.m1()),
}


def _context(session: AsyncSession, now: datetime.datetime | None) -> tuple[_Bounds, int]:
    """The bounds, and the month of the shop's local day ("this month" on the 1st at 06:00 in Vietnam is new)."""
    now = now or clock.now()
    local = now.astimezone(ZoneInfo(config_of(session).time_zone))
    return _Bounds(now, program_of(session).tiers[-1].min_spend), local.month


def _birthdays(month: int) -> ColumnElement[bool]:
    return and_(Customer.merged_into_id.is_(None), extract("month", Customer.birthday) == month)


async def list_segments(session: AsyncSession, now: datetime.datetime | None = None) -> list[SegmentOut]:
    bounds, month = _context(session, now)
    counted = [func.count().filter(_CLAUSES[name](bounds)) for name in _CLAUSES]
    counts = dict(zip(_CLAUSES, (await session.execute(select(*counted).select_from(S))).one(), strict=True))
    counts[BIRTHDAY] = await session.scalar(select(func.count()).select_from(Customer).where(_birthdays(month)))
    return [SegmentOut(name=r.name, description=r.description, count=int(counts[r.name] or 0)) for r in RULES]


def _members(name: str, bounds: _Bounds, month: int) -> tuple[InstrumentedAttribute[UUID], ColumnElement[bool]]:
    """The id column to page on (customers' or customer_stats'), and the rule as a WHERE clause."""
    if rule(name) is None:
        raise NotFound("segment", name)
    if name == BIRTHDAY:
        return Customer.id, _birthdays(month)
    return S.customer_id, _CLAUSES[name](bounds)


async def member_ids(session: AsyncSession, name: str, now: datetime.datetime | None = None) -> list[UUID]:
    """The ids of segment `name`'s live members, in id order (a campaign walks them in this order)."""
    column, where = _members(name, *_context(session, now))
    return list(await session.scalars(select(column).where(where).order_by(column)))


async def customers_in(
    session: AsyncSession, name: str, limit: int, offset: int, now: datetime.datetime | None = None
) -> tuple[list[Customer], int]:
    """One page of the segment's members in id order, and how many there are: two index-bounded statements."""
    column, where = _members(name, *_context(session, now))
    total = int(await session.scalar(select(func.count(column)).where(where)) or 0)
    if total == 0 or offset >= total:
        return [], total
    page = list(await session.scalars(select(column).where(where).order_by(column).limit(limit).offset(offset)))
    rows = {c.id: c for c in await session.scalars(select(Customer).where(Customer.id.in_(page)))}
    return [rows[i] for i in page], total
