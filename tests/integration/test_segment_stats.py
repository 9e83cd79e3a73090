"""Segments from customer_stats equal the old recomputation over everyone, on randomised histories.

A seeded generator clones one real order into many customers' orders, then completes, partially completes and
returns them through `order_moved` (the path couriers and staff take), merges customers through the merge use
case, redeems and expires points, and moves a pinned clock forward. After every step each segment's members,
count and first page must be what the rules of segments.py give on stats recomputed from the ledger and the
orders (the code before customer_stats: `recomputed` below), and each profile's figures and favourites what
summing her ledger and grouping her lines give, on both databases.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.customers.merge import merge_customers
from orders_service.customers.schemas import CustomerMergeIn
from orders_service.db.engine import begin_write, create_engine
from orders_service.db.models import Customer, OrderLine, PointsEntry
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Actor, ActorKind, OrderStatus, replace
from orders_service.infra.settings import Settings
from orders_service.loyalty import favorites, points, segment_services, services
from orders_service.loyalty.program import program_of
from orders_service.loyalty.schemas import FavoritesOut
from orders_service.loyalty.segments import AT_RISK_DAYS, RULES, Stats, segments_of
from orders_service.loyalty.stats import COMPLETED
from orders_service.messaging.config import config_of
from orders_service.orders import mapping
from orders_service.orders.services import get_order
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
START = datetime.datetime(2026, 3, 1, 8, tzinfo=datetime.UTC)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def recomputed(session: AsyncSession, now: datetime.datetime) -> dict[UUID, list[str]]:
    """Every live customer's segments the way the service computed them before customer_stats."""
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
        select(Customer.id, Customer.birthday, ledger.c.spend, ledger.c.orders, last.c.last_order_at)
        .outerjoin(ledger, ledger.c.customer_id == Customer.id)
        .outerjoin(last, last.c.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None))
    )
    local = now.astimezone(ZoneInfo(config_of(session).time_zone))
    return {
        cid: segments_of(Stats(int(orders or 0), int(spend or 0), at, birthday, vip_spend), local)
        for cid, birthday, spend, orders, at in (await session.execute(query)).tuples()
    }


async def check(session: AsyncSession, now: datetime.datetime) -> None:
    expected = await recomputed(session, now)
    counts = {s.name: s.count for s in await segment_services.list_segments(session, now)}
    for r in RULES:
        members = sorted(cid for cid, names in expected.items() if r.name in names)
        assert await segment_services.member_ids(session, r.name, now) == members, (r.name, now)
        assert counts[r.name] == len(members), r.name
        page, total = await segment_services.customers_in(session, r.name, 3, 1, now)
        assert ([c.id for c in page], total) == (members[1:4], len(members)), r.name


async def check_profiles(session: AsyncSession, customers: list[UUID], now: datetime.datetime) -> None:
    """Each profile's counts, points, dates and favourites from the kept stats equal them summed from scratch."""
    done = OrderRow.status.in_([str(s) for s in COMPLETED])
    for cid in customers:
        got = await services.profile(session, cid, now)
        sums = await services._sums(session, cid)
        first, last = (
            await session.execute(
                select(func.min(OrderRow.created_at), func.max(OrderRow.created_at)).where(
                    OrderRow.customer_id == cid, done
                )
            )
        ).one()
        lines = [tuple(r[1:]) for r in await session.execute(favorites.grouped_lines(OrderRow.customer_id == cid))]
        assert (got.loyalty.points, got.stats.total_spent, got.stats.delivered_orders) == (
            sums.points,
            max(0, sums.spend),
            max(0, sums.orders),
        ), cid
        assert (got.stats.first_order_at, got.stats.last_order_at) == (first, last), cid
        assert got.favorites == old_favorites(lines), cid


def old_favorites(grouped: list[tuple[Any, ...]]) -> FavoritesOut:
    """The profile's favourites as the service counted them before customer_favorites; ties by name."""
    counters: dict[str, Counter[str]] = {"sizes": Counter(), "colors": Counter(), "skus": Counter()}
    for sku, size, color, kept, quantity, lines in grouped:
        items = (
            [{"size": size, "color": color, "quantity": quantity * lines}]
            if kept is None
            else [{**item, "quantity": int(item.get("quantity") or 0) * lines} for item in kept]
        )
        for item in items:
            count = int(item.get("quantity") or 0)
            if count > 0:
                counters["skus"][sku] += count
                for field, kind in (("size", "sizes"), ("color", "colors")):
                    if item.get(field):
                        counters[kind][str(item[field])] += count
    ranked = {kind: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:3] for kind, c in counters.items()}
    return FavoritesOut(**{kind: [k for k, _ in top] for kind, top in ranked.items()})


async def seed(session: AsyncSession, template_id: str, rng: random.Random) -> tuple[list[UUID], list[UUID]]:
    """30 customers (birthdays in every month), 0-7 orders each created over the last 200 days, none completed."""
    template = dict(
        (await session.execute(select(OrderRow.__table__).where(OrderRow.id == UUID(template_id)))).one()._mapping
    )
    line = dict(
        (await session.execute(select(OrderLine.__table__).where(OrderLine.order_id == UUID(template_id))))
        .one()
        ._mapping
    )
    people, orders, lines = [], [], []
    for n in range(30):
        birthday = datetime.date(1990, rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.7 else None
        people.append({"id": uuid.uuid4(), "full_name": f"K {n}", "search_name": f"k {n}", "birthday": birthday})
        for _ in range(rng.randint(0, 7)):
            oid, at = uuid.uuid4(), START - datetime.timedelta(days=rng.randint(0, 200), seconds=rng.randint(0, 86_399))
            orders.append(
                {**template, "id": oid, "customer_id": people[-1]["id"], "code": f"T{oid.hex[:12].upper()}"}
                | {"status": "in_transit", "created_at": at, "updated_at": at}
            )
            quantity = rng.choice((1, 1, 2, 5, 12))
            size, color = rng.choice(("S", "M", "L")), rng.choice(("red", "blue", "đen"))
            kept = [  # what the courier said she kept of a try-on at the door, sometimes
                {"size": rng.choice(("S", "M")), "color": color, "unit_price": 450_000, "quantity": rng.randint(1, 2)}
                for _ in range(rng.randint(1, 2))
            ]
            lines.append(
                {**line, "id": uuid.uuid4(), "order_id": oid, "quantity": quantity}
                | {"sku": rng.choice(("DRESS-01", "AO-02", "QUAN-03")), "size": size, "color": color}
                | {"kept": kept if rng.random() < 0.25 else None}
            )
    await session.execute(
        insert(Customer), [p | {"tags": [], "created_at": START, "updated_at": START} for p in people]
    )
    await session.execute(insert(OrderRow), orders)
    await session.execute(insert(OrderLine), lines)
    return [p["id"] for p in people], [o["id"] for o in orders]


async def move(session: AsyncSession, order_id: UUID, status: OrderStatus, now: datetime.datetime) -> None:
    row = await get_order(session, order_id, lock=True)
    before = mapping.to_domain(row)
    after = replace(before, status=status)
    mapping.write(row, after)
    await services.order_moved(session, row, before.status, after, now)
    await session.flush()


async def test_segments_follow_completions_returns_merges_and_time(api: Api, settings: Settings) -> None:
    template = (await api.create_order())["id"]
    rng = random.Random(18)
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await begin_write(session)
            customers, orders = await seed(session, template, rng)
        now = START
        await _run(engine, customers, orders, rng, now)
    finally:
        await engine.dispose()


async def _run(
    engine: Any, customers: list[UUID], orders: list[UUID], rng: random.Random, now: datetime.datetime
) -> None:
    delivered: list[UUID] = []
    waiting = list(orders)
    rng.shuffle(waiting)
    live = list(customers)
    for step in range(8):
        async with AsyncSession(engine) as session, session.begin():
            await begin_write(session)
            for _ in range(min(len(waiting), rng.randint(5, 20))):
                oid = waiting.pop()
                done = OrderStatus.DELIVERED if rng.random() < 0.8 else OrderStatus.PARTIALLY_DELIVERED
                await move(session, oid, done, now)
                delivered.append(oid)
            for oid in rng.sample(delivered, min(len(delivered), rng.randint(0, 3))):
                delivered.remove(oid)
                await move(session, oid, OrderStatus.RETURNED, now)
            for oid in rng.sample(delivered, min(len(delivered), 2)):  # she spends some points on an order
                row = await get_order(session, oid, lock=True)
                held = (await services._sums(session, row.customer_id)).points
                if held > 1:
                    await points.redeem(session, row, [(0, rng.randint(1, held // 2))], f"t{step}", now)
            for cid in rng.sample(live, 2):  # a lot earned long before lapses (the program's expiry is months)
                await points.expire_customer(session, cid, now + datetime.timedelta(days=800))
        if step % 3 == 1 and len(live) > 3:
            into, *sources = rng.sample(live, 3)
            async with AsyncSession(engine) as session, session.begin():
                await merge_customers(session, CustomerMergeIn(from_=sources, into=into), Actor(ActorKind.STAFF, "t"))
            live = [c for c in live if c not in sources]
        async with AsyncSession(engine) as session:
            await check_profiles(session, live, now)
            await check(session, now)
            # Time passes with nothing written: recency, at-risk and birthday months move on their own.
            for days in (29, 31, 32, 60, 91, 92, 120, 400):
                await check(session, now + datetime.timedelta(days=days, hours=rng.randint(0, 23)))
            # On the edges of "30 days" and "90 days" after someone's last order, to the microsecond.
            lasts = list(await session.scalars(select(func.max(OrderRow.created_at)).group_by(OrderRow.customer_id)))
            for last in rng.sample(lasts, 2):
                for edge in (datetime.timedelta(days=31), datetime.timedelta(days=AT_RISK_DAYS + 1)):
                    for tick in (-1, 0):
                        await check(session, last + edge + datetime.timedelta(microseconds=tick))
        now += datetime.timedelta(days=rng.randint(1, 40), minutes=rng.randint(0, 1_000))
