"""Spending and losing points: the ledger side of `redeem_points`, the refund on cancel, and expiry by schedule."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from orders_service.db.engine import begin_write
from orders_service.db.models import Customer, PointsEntry
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import InvalidField
from orders_service.infra import clock
from orders_service.loyalty import ledger, stats
from orders_service.loyalty.ledger import Entry, Kind

CANCELLED_REF = "cancelled"
MERGED_REF = "merged"


async def _lock(session: AsyncSession, customer_id: UUID) -> None:
    """One customer's ledger is written by one transaction at a time (the same lock order_moved takes)."""
    await session.scalar(select(Customer.id).where(Customer.id == customer_id).with_for_update(key_share=True))


async def _ledger(session: AsyncSession, customer_id: UUID) -> list[Entry]:
    rows = await session.scalars(
        select(PointsEntry).where(PointsEntry.customer_id == customer_id).order_by(PointsEntry.id)
    )
    return [Entry(Kind(r.kind), r.points, r.spend, r.orders_delta, r.order_id, r.ref, r.expires_at) for r in rows]


async def redeem(
    session: AsyncSession,
    row: OrderRow,
    wanted: Sequence[tuple[int, int]],
    ref: str,
    now: datetime.datetime,
    *,
    write: bool = True,
) -> None:
    """Spend `wanted` [(operation index, points)] of the order's customer, or refuse naming the operation.

    Called with the order row locked; a dry run (`write` False) checks the balance and writes nothing.
    """
    if write:
        await _lock(session, row.customer_id)
    held = ledger.spendable(await _ledger(session, row.customer_id), now)
    spent = 0
    for index, points in wanted:
        spent += points
        if spent > held:
            raise InvalidField(f"operations[{index}].points", f"the customer holds {held} points, not {spent}")
    if write:
        session.add(
            PointsEntry(
                customer_id=row.customer_id,
                order_id=row.id,
                kind=str(Kind.REDEEM),
                ref=ref,
                points=-spent,
                spend=0,
                orders_delta=0,
                created_at=now,
                note=f"order {row.code}",
            )
        )
        await stats.add(session, row.customer_id, 0, 0, -spent)
        await session.flush()


async def refund_redeemed(session: AsyncSession, row: OrderRow, now: datetime.datetime) -> int:
    """A cancelled order gives back the points spent on it, once (refunded points do not expire); how many."""
    redeemed = await session.scalars(
        select(PointsEntry.points).where(PointsEntry.order_id == row.id, PointsEntry.kind == str(Kind.REDEEM))
    )
    points = -sum(redeemed)
    if points <= 0:
        return 0
    await _lock(session, row.customer_id)
    done = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.order_id == row.id, PointsEntry.kind == str(Kind.ADJUST), PointsEntry.ref == CANCELLED_REF
        )
    )
    if done is not None:
        return 0
    session.add(
        PointsEntry(
            customer_id=row.customer_id,
            order_id=row.id,
            kind=str(Kind.ADJUST),
            ref=CANCELLED_REF,
            points=points,
            spend=0,
            orders_delta=0,
            created_at=now,
            note=f"order {row.code} cancelled",
        )
    )
    await stats.add(session, row.customer_id, 0, 0, points)
    await session.flush()
    return points


async def move_redeemed(session: AsyncSession, source: OrderRow, into: OrderRow, now: datetime.datetime) -> int:
    """A merged order's spent points follow its payments to the surviving order, so cancelling that gives them back.

    Append-only: an `adjust` closes them on the source and a `redeem` opens them on the survivor; her balance is
    unchanged. Returns how many points moved (0 when none were spent on the source, or they already moved).
    """
    spent = -sum(
        await session.scalars(
            select(PointsEntry.points).where(PointsEntry.order_id == source.id, PointsEntry.kind == str(Kind.REDEEM))
        )
    )
    if spent <= 0:
        return 0
    await _lock(session, source.customer_id)
    moved = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.order_id == source.id, PointsEntry.kind == str(Kind.ADJUST), PointsEntry.ref == MERGED_REF
        )
    )
    if moved is not None:
        return 0
    common = {"customer_id": source.customer_id, "spend": 0, "orders_delta": 0, "created_at": now}
    session.add_all(
        [
            PointsEntry(
                **common,
                order_id=source.id,
                kind=str(Kind.ADJUST),
                ref=MERGED_REF,
                points=spent,
                note=f"order {source.code} merged into {into.code}",
            ),
            PointsEntry(
                **common,
                order_id=into.id,
                kind=str(Kind.REDEEM),
                ref=f"merged:{source.code}",
                points=-spent,
                note=f"order {into.code}, spent on {source.code}",
            ),
        ]
    )
    await session.flush()  # her balance is unchanged: customer_stats has nothing to add
    return spent


async def expire_customer(session: AsyncSession, customer_id: UUID, now: datetime.datetime) -> int:
    """Write her expiry entries due at `now` (one per lapsed lot, keyed by its order); the points written off."""
    await _lock(session, customer_id)
    due = ledger.expired(await _ledger(session, customer_id), now)
    for entry in due:
        session.add(
            PointsEntry(
                customer_id=customer_id,
                order_id=entry.order_id,
                kind=str(Kind.EXPIRE),
                points=entry.points,
                spend=0,
                orders_delta=0,
                created_at=now,
                note="points expired",
            )
        )
    await stats.add(session, customer_id, 0, 0, sum(entry.points for entry in due))
    await session.flush()
    return -sum(entry.points for entry in due)


async def expire_points(db: async_sessionmaker[AsyncSession], now: datetime.datetime | None = None) -> int:
    """The daily expiry: each customer with a lapsed lot not yet closed, in her own transaction. Idempotent."""
    now = now or clock.now()
    closed = aliased(PointsEntry)
    lapsed = (
        select(PointsEntry.customer_id)
        .where(
            PointsEntry.expires_at.is_not(None),
            PointsEntry.expires_at <= now,
            ~exists().where(closed.order_id == PointsEntry.order_id, closed.kind == str(Kind.EXPIRE)),
        )
        .distinct()
    )
    async with db() as session:
        customers = list(await session.scalars(lapsed))
    written = 0
    for customer_id in customers:
        async with db() as session, session.begin():
            await begin_write(session)
            written += await expire_customer(session, customer_id, now)
    return written
