"""Per-customer stats (customer_stats): kept up to date in the transaction that writes her ledger or completes
or returns one of her orders.

Segments and the profile read these numbers instead of summing her whole ledger and orders on every request.
Every ledger entry adds its points (`add`, beside each PointsEntry written). Order counts and spend move with two
events only: an order becoming delivered/partially delivered (the earn entry adds an order and its
spend; the order's creation time may become her first or last) and a completed order coming back (the reverse
entry takes them away; her first/last completed order is looked up again without it). A merge moves orders and
ledger, so it recomputes the customers involved; `rebuild` recomputes everyone (rows written around the app).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Select, Table, delete, func, insert, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Customer, CustomerStats, PointsEntry
from orders_service.db.models import Order as OrderRow
from orders_service.db.upsert import Upsert
from orders_service.domain.model import OrderStatus

COMPLETED = frozenset({OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED})
_COMPLETED = [str(s) for s in COMPLETED]
_STATS = cast(Table, CustomerStats.__table__)


# Her numbers, added to (or made, for her first): statements SQLAlchemy caches (db/upsert.py). Adding a zero
# changes nothing, so one statement serves every entry; the earliest and the latest completed order are kept.
_SUMS = {name: f"customer_stats.{name} + excluded.{name}" for name in ("orders", "spend", "points")}
_ADD = Upsert(_STATS, ["customer_id", "orders", "spend", "points"], conflict=["customer_id"], set_=_SUMS)
_COMPLETED_ORDER = Upsert(
    _STATS,
    ["customer_id", "orders", "spend", "points", "first_order_at", "last_order_at"],
    conflict=["customer_id"],
    set_={
        **_SUMS,
        "first_order_at": "CASE WHEN customer_stats.first_order_at IS NULL"
        " OR customer_stats.first_order_at > excluded.first_order_at"
        " THEN excluded.first_order_at ELSE customer_stats.first_order_at END",
        "last_order_at": "CASE WHEN customer_stats.last_order_at IS NULL"
        " OR customer_stats.last_order_at < excluded.last_order_at"
        " THEN excluded.last_order_at ELSE customer_stats.last_order_at END",
    },
)


async def add(session: AsyncSession, customer_id: UUID, orders: int, spend: int, points: int) -> None:
    """A ledger entry was written for her: add its order count, spend and points (one statement, no read)."""
    if orders == 0 and spend == 0 and points == 0:
        return
    values = {"customer_id": customer_id, "orders": orders, "spend": spend, "points": points}
    await session.execute(_ADD.statement, _ADD.values(values))


async def order_completed(
    session: AsyncSession,
    customer_id: UUID,
    created_at: datetime.datetime,
    orders: int = 0,
    spend: int = 0,
    points: int = 0,
) -> None:
    """One more completed order created at `created_at`: it may be her first or her last. With the counts of
    its earn entry, the same statement adds them too (`add`'s work): one upsert per delivered order, not two."""
    values = {"customer_id": customer_id, "orders": orders, "spend": spend, "points": points}
    at = {"first_order_at": created_at, "last_order_at": created_at}
    await session.execute(_COMPLETED_ORDER.statement, _COMPLETED_ORDER.values(values | at))


async def order_uncompleted(session: AsyncSession, customer_id: UUID, order_id: UUID) -> None:
    """A completed order left the completed states: her first and last completed orders, without it."""
    others = (
        OrderRow.customer_id == customer_id,
        OrderRow.status.in_(_COMPLETED),
        OrderRow.id != order_id,
    )
    await session.execute(
        update(CustomerStats)
        .where(CustomerStats.customer_id == customer_id)
        .values(
            first_order_at=select(func.min(OrderRow.created_at)).where(*others).scalar_subquery(),
            last_order_at=select(func.max(OrderRow.created_at)).where(*others).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


def _computed(where: Any) -> Select[Any]:
    """(customer id, orders, spend, points, first, last) from the ledger and orders, for the live customers `where`."""
    ledger = (
        select(
            PointsEntry.customer_id.label("customer_id"),
            func.sum(PointsEntry.spend).label("spend"),
            func.sum(PointsEntry.orders_delta).label("orders"),
            func.sum(PointsEntry.points).label("points"),
        )
        .group_by(PointsEntry.customer_id)
        .subquery()
    )
    done = (
        select(
            OrderRow.customer_id.label("customer_id"),
            func.min(OrderRow.created_at).label("first_order_at"),
            func.max(OrderRow.created_at).label("last_order_at"),
        )
        .where(OrderRow.status.in_(_COMPLETED))
        .group_by(OrderRow.customer_id)
        .subquery()
    )
    return (
        select(
            Customer.id,
            func.coalesce(ledger.c.orders, literal(0)),
            func.coalesce(ledger.c.spend, literal(0)),
            func.coalesce(ledger.c.points, literal(0)),
            done.c.first_order_at,
            done.c.last_order_at,
        )
        .outerjoin(ledger, ledger.c.customer_id == Customer.id)
        .outerjoin(done, done.c.customer_id == Customer.id)
        .where(
            Customer.merged_into_id.is_(None),
            or_(ledger.c.customer_id.is_not(None), done.c.customer_id.is_not(None)),
            where,
        )
    )


async def recompute(session: AsyncSession, customer_ids: Iterable[UUID]) -> None:
    """Her stats from scratch (after a merge moved orders and ledger between these customers)."""
    ids = list(customer_ids)
    await session.flush()
    await session.execute(delete(CustomerStats).where(CustomerStats.customer_id.in_(ids)))
    await _fill(session, Customer.id.in_(ids))


async def rebuild(session: AsyncSession) -> None:
    """Everyone's stats from scratch: for rows written around the app (imports, the benches)."""
    await session.execute(delete(CustomerStats))
    await _fill(session, true())


async def _fill(session: AsyncSession, where: Any) -> None:
    columns = ["customer_id", "orders", "spend", "points", "first_order_at", "last_order_at"]
    await session.execute(insert(CustomerStats).from_select(columns, _computed(where)))
