"""Loyalty use cases: feed the ledger when an order completes or comes back, keep the tier, read the profile."""

from __future__ import annotations

import datetime
import functools
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.customers.services import get_customer, to_out
from orders_service.db.models import Customer, CustomerStats, CustomerTier, PointsEntry, TierChange
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Order, OrderStatus
from orders_service.domain.money import compute_totals
from orders_service.infra import clock
from orders_service.loyalty import favorites, ledger, stats
from orders_service.loyalty.ledger import Entry, Kind
from orders_service.loyalty.program import program_of
from orders_service.loyalty.schemas import LoyaltyOut, PointsEntryOut, ProfileOut, StatsOut, Status
from orders_service.loyalty.segments import Stats, segments_of
from orders_service.loyalty.stats import COMPLETED
from orders_service.loyalty.tiers import Tier, discount_reason, evaluate, next_tier
from orders_service.messaging import triggers
from orders_service.orders.listing import OrderFilters, list_orders

RECENT = datetime.timedelta(days=90)


class TierDiscount:
    """A new order, or an open one amended, carries the customer's current tier percent."""

    async def for_customer(self, session: AsyncSession, customer_id: UUID) -> tuple[int, str | None]:
        tier = await current_tier(session, customer_id)
        return tier.percent, discount_reason(tier)

    def read_along(self, customer_id: SQLColumnExpression[UUID]) -> ColumnElement[Any] | None:
        return _tier_along(customer_id)

    def from_read(self, session: AsyncSession, value: Any) -> tuple[int, str | None]:
        tier = program_of(session).tier(value)
        return tier.percent, discount_reason(tier)


def _tier_code(customer_id: Any) -> Select[tuple[str]]:
    return select(CustomerTier.tier).where(CustomerTier.customer_id == customer_id)


@functools.lru_cache(maxsize=8)
def _tier_along(customer_id: SQLColumnExpression[UUID]) -> ColumnElement[Any]:
    """The same subquery object each time: the SELECT that carries it can be built, and its cache key made, once."""
    return _tier_code(customer_id).scalar_subquery()


async def current_tier(session: AsyncSession, customer_id: UUID) -> Tier:
    code = await session.scalar(_tier_code(customer_id))
    return program_of(session).tier(code)


def _entry(row: PointsEntry) -> Entry:
    return Entry(Kind(row.kind), row.points, row.spend, row.orders_delta, row.order_id, row.ref, row.expires_at)


async def _entries(session: AsyncSession, *where: Any) -> list[PointsEntry]:
    return list(await session.scalars(select(PointsEntry).where(*where).order_by(PointsEntry.id)))


async def order_moved(
    session: AsyncSession, row: OrderRow, before: OrderStatus, after: Order, now: datetime.datetime | None = None
) -> None:
    """An order became delivered/partially delivered (earn) or came back after that (reverse); else nothing.

    Called with the order row locked. Idempotent: an entry already under its key is not written again.
    """
    now = now or clock.now()
    program = program_of(session)
    if after.status in COMPLETED and before not in COMPLETED:
        totals = compute_totals(after)
        entry: Entry | None = ledger.earn(program, row.id, totals.subtotal - totals.discount_amount)
        completed = True  # her first/last completed order: written below, with the entry's counts if it is new
        await favorites.order_moved(session, row.customer_id, row.lines, +1)
    elif after.status is OrderStatus.RETURNED and before in COMPLETED:
        entry, completed = None, False  # decided below, against what the order and the customer still count
        await stats.order_uncompleted(session, row.customer_id, row.id)
        await favorites.order_moved(session, row.customer_id, row.lines, -1)
    else:
        return
    # One customer's ledger is written by one transaction at a time: her tier follows from all of it.
    await session.scalar(select(Customer.id).where(Customer.id == row.customer_id).with_for_update(key_share=True))
    if entry is None:
        mine = [_entry(e) for e in await _entries(session, PointsEntry.order_id == row.id)]
        held = await _sums(session, row.customer_id)
        entry = ledger.reverse(mine, held, row.id)
        if entry is None:
            return
    taken = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.order_id == row.id, PointsEntry.kind == str(entry.kind), PointsEntry.ref == entry.ref
        )
    )
    if taken is not None:  # earned already: only her first/last completed order may move
        if completed:
            await stats.order_completed(session, row.customer_id, row.created_at)
        return
    _add_entry(
        session, row, entry, now, f"order {row.code}", program.expires_at(now) if entry.kind is Kind.EARN else None
    )
    if completed:  # one upsert: the order's dates and the entry's counts
        await stats.order_completed(
            session, row.customer_id, row.created_at, entry.orders_delta, entry.spend, entry.points
        )
    else:
        await stats.add(session, row.customer_id, entry.orders_delta, entry.spend, entry.points)
    await session.flush()
    if entry.kind is Kind.EARN:  # delivered: she hears what it came to and the points it earned
        triggers.order_delivered(session, row, entry.spend, entry.points)
    await reevaluate(session, row.customer_id, now)


def _add_entry(
    session: AsyncSession,
    row: OrderRow,
    entry: Entry,
    now: datetime.datetime,
    note: str,
    expires_at: datetime.datetime | None = None,
) -> None:
    """One ledger row of the order's customer for `entry`."""
    session.add(
        PointsEntry(
            customer_id=row.customer_id,
            order_id=row.id,
            kind=str(entry.kind),
            ref=entry.ref,
            points=entry.points,
            spend=entry.spend,
            orders_delta=entry.orders_delta,
            created_at=now,
            expires_at=expires_at,
            note=note,
        )
    )


async def items_returned(
    session: AsyncSession, row: OrderRow, returned_spend: int, ref: str, now: datetime.datetime | None = None
) -> Entry | None:
    """Part of a completed order came back (an approved return request worth `returned_spend` after discount):
    that part of its points and spend leaves her ledger, once per `ref`; a later whole return reverses the rest.

    Called with the order row locked. None when nothing was written (already reversed, nothing left).
    """
    now = now or clock.now()
    await session.scalar(select(Customer.id).where(Customer.id == row.customer_id).with_for_update(key_share=True))
    taken = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.order_id == row.id, PointsEntry.kind == str(Kind.REVERSE), PointsEntry.ref == ref
        )
    )
    if taken is not None:
        return None
    mine = [_entry(e) for e in await _entries(session, PointsEntry.order_id == row.id)]
    held = await _sums(session, row.customer_id)
    entry = ledger.reverse(mine, held, row.id, returned_spend=max(0, returned_spend), ref=ref)
    if entry is None or (entry.points == 0 and entry.spend == 0 and entry.orders_delta == 0):
        return None
    _add_entry(session, row, entry, now, f"order {row.code}: items returned")
    await stats.add(session, row.customer_id, entry.orders_delta, entry.spend, entry.points)
    await session.flush()
    await reevaluate(session, row.customer_id, now)
    return entry


async def _sums(session: AsyncSession, customer_id: UUID) -> ledger.Totals:
    points, spend, orders = (
        await session.execute(
            select(
                func.coalesce(func.sum(PointsEntry.points), 0),
                func.coalesce(func.sum(PointsEntry.spend), 0),
                func.coalesce(func.sum(PointsEntry.orders_delta), 0),
            ).where(PointsEntry.customer_id == customer_id)
        )
    ).one()
    return ledger.Totals(int(points), int(spend), int(orders))


async def reevaluate(session: AsyncSession, customer_id: UUID, now: datetime.datetime) -> CustomerTier:
    """Her tier after the ledger changed: evaluated by tiers.evaluate, each move recorded in the history."""
    program = program_of(session)
    state = await session.scalar(select(CustomerTier).where(CustomerTier.customer_id == customer_id))
    sums = await _sums(session, customer_id)
    decision = evaluate(
        program,
        state.tier if state else None,
        state.manual_floor if state else None,
        sums.spend,
        sums.orders,
        now,
        state.review_at if state else None,
    )
    if state is None:
        state = CustomerTier(customer_id=customer_id, tier=program.tiers[0].code, since=now)
        session.add(state)
    if decision.reason is not None:
        session.add(
            TierChange(
                customer_id=customer_id, from_tier=state.tier, to_tier=decision.tier, reason=decision.reason, at=now
            )
        )
        if program.rank(decision.tier) > program.rank(state.tier):
            triggers.tier_upgraded(session, customer_id, decision.tier, program.tier(decision.tier).percent, now)
        state.tier, state.since = decision.tier, now
    state.review_at = decision.review_at
    await session.flush()
    return state


async def points(session: AsyncSession, customer_id: UUID, limit: int, offset: int) -> tuple[list[PointsEntryOut], int]:
    """A page of the ledger, oldest first, with the running balance summed by the database.

    Written by hand, not through a repository: the balance is a window over the whole ledger, so the page is cut
    from a subquery of rows with their balance, and advanced-alchemy's repositories page a model's rows, not such
    a subquery (its query repository neither drops LIMIT from its COUNT nor returns rows of several columns).
    """
    await get_customer(session, customer_id)
    balance = func.sum(PointsEntry.points).over(order_by=PointsEntry.id).label("balance")
    ledger_rows = (
        select(PointsEntry.id, PointsEntry.created_at, PointsEntry.order_id, PointsEntry.kind, PointsEntry.points)
        .add_columns(balance)
        .where(PointsEntry.customer_id == customer_id)
        .subquery()
    )
    # An expiry that found the lot already spent writes 0 points: it closes the lot and is not shown.
    shown = (ledger_rows.c.points != 0,)
    total = await session.scalar(select(func.count()).select_from(ledger_rows).where(*shown))
    page = await session.execute(
        select(ledger_rows).where(*shown).order_by(ledger_rows.c.id).limit(limit).offset(offset)
    )
    items = [PointsEntryOut(r.created_at, r.order_id, Kind(r.kind), r.points, int(r.balance)) for r in page]
    return items, int(total or 0)


async def _spend_since(session: AsyncSession, customer_id: UUID, since: datetime.datetime) -> int:
    spend = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.spend), 0)).where(
            PointsEntry.customer_id == customer_id, PointsEntry.created_at >= since
        )
    )
    return max(0, int(spend or 0))


async def profile(session: AsyncSession, customer_id: UUID, now: datetime.datetime | None = None) -> ProfileOut:
    """Her profile from her kept stats and favourites, and her last 90 days of ledger: bounded reads however many
    orders she has."""
    now = now or clock.now()
    customer = await get_customer(session, customer_id)
    program = program_of(session)
    # Her orders, spend, points, first and last completed order: kept per customer (stats.py), not summed per read.
    kept = await session.get(CustomerStats, customer_id)
    sums = ledger.Totals(kept.points, kept.spend, kept.orders) if kept else ledger.Totals(0, 0, 0)
    first, last = (kept.first_order_at, kept.last_order_at) if kept else (None, None)
    recent = await _spend_since(session, customer_id, now - RECENT)
    tier = await current_tier(session, customer_id)
    above, missing = next_tier(program, tier.code, sums.spend)
    return ProfileOut(
        customer=to_out(customer),
        stats=StatsOut(
            delivered_orders=max(0, sums.orders),
            total_spent=max(0, sums.spend),
            spent_last_3_months=recent,
            average_order_value=max(0, sums.spend) // sums.orders if sums.orders > 0 else 0,
            first_order_at=first,
            last_order_at=last,
        ),
        status=Status(ledger.status(sums.orders, sums.spend, program.tiers[-1].min_spend)),
        age_group=ledger.age_group(customer.birthday, now.date()),
        loyalty=LoyaltyOut(
            tier=tier.code,
            points=sums.points,
            lifetime_spend=max(0, sums.spend),
            discount_percent=tier.percent,
            next_tier=above,
            amount_to_next_tier=missing,
        ),
        segments=segments_of(Stats(sums.orders, sums.spend, last, customer.birthday, program.tiers[-1].min_spend), now),
        favorites=await favorites.read(session, customer_id),
    )


async def orders_of(session: AsyncSession, customer_id: UUID, limit: int, offset: int) -> tuple[list[OrderRow], int]:
    await get_customer(session, customer_id)
    return await list_orders(session, OrderFilters(customer_id=customer_id), limit, offset)


async def spend_history(session: AsyncSession, customer_id: UUID) -> list[tuple[datetime.datetime, int]]:
    """When her tier spend moved, and by how much (earns add, returns take away), oldest first."""
    await get_customer(session, customer_id)
    rows = await session.execute(
        select(PointsEntry.created_at, PointsEntry.spend)
        .where(PointsEntry.customer_id == customer_id, PointsEntry.spend != 0)
        .order_by(PointsEntry.created_at)
    )
    return [(at, int(spend)) for at, spend in rows.tuples()]
