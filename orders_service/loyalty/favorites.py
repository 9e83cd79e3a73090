"""Her favourite sizes, colours and SKUs (customer_favorites): counted as orders complete, taken back on return.

What counts is what she kept: a line's quantity in its size and colour, or for a try-on line the items the
courier reported kept. The profile reads the top three of each kind (most items first, then by name) from her few
rows. A merge recomputes the customers involved from their completed orders' lines (`recompute`), as does
`rebuild` for everyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Customer, CustomerFavorite, OrderLine
from orders_service.db.models import Order as OrderRow
from orders_service.db.upsert import Upsert
from orders_service.loyalty.schemas import FavoritesOut
from orders_service.loyalty.stats import COMPLETED

KINDS = ("size", "color", "sku")
TOP = 3


def counted(
    sku: str, size: str | None, color: str | None, kept: list[dict[str, Any]] | None, quantity: int, lines: int = 1
) -> Iterator[tuple[str, str, int]]:
    """(kind, value, items) for `lines` identical lines: what she kept of them."""
    items = (
        [{"size": size, "color": color, "quantity": quantity}]
        if kept is None
        else [{**item, "quantity": int(item.get("quantity") or 0)} for item in kept]
    )
    for item in items:
        count = int(item.get("quantity") or 0) * lines
        if count <= 0:
            continue
        yield "sku", sku, count
        if item.get("size"):
            yield "size", str(item["size"]), count
        if item.get("color"):
            yield "color", str(item["color"]), count


def tally(rows: Iterable[tuple[Any, ...]]) -> Counter[tuple[str, str]]:
    """The counts of grouped line rows (sku, size, color, kept, quantity, lines)."""
    total: Counter[tuple[str, str]] = Counter()
    for sku, size, color, kept, quantity, lines in rows:
        for kind, value, count in counted(sku, size, color, kept, int(quantity or 0), int(lines)):
            total[kind, value] += count
    return total


def top(counts: Counter[tuple[str, str]]) -> FavoritesOut:
    ranked = sorted(((k, v, n) for (k, v), n in counts.items() if n > 0), key=lambda t: (-t[2], t[1]))
    return FavoritesOut(
        sizes=[v for k, v, _ in ranked if k == "size"][:TOP],
        colors=[v for k, v, _ in ranked if k == "color"][:TOP],
        skus=[v for k, v, _ in ranked if k == "sku"][:TOP],
    )


# One row per kind and value, counted up or down: a statement SQLAlchemy caches (db/upsert.py), run for each.
_COUNT = Upsert(
    cast(Table, CustomerFavorite.__table__),
    ["customer_id", "kind", "value", "count"],
    conflict=["customer_id", "kind", "value"],
    set_={"count": "customer_favorites.count + excluded.count"},
)


async def order_moved(session: AsyncSession, customer_id: UUID, lines: Iterable[OrderLine], sign: int) -> None:
    """An order completed (+1) or a completed one came back (-1): add or take away what she kept of it."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in lines:
        for kind, value, count in counted(line.sku, line.size, line.color, line.kept, line.quantity):
            counts[kind, value] += sign * count
    if not counts:
        return
    rows = [{"customer_id": customer_id, "kind": k, "value": v, "count": n} for (k, v), n in counts.items()]
    await session.execute(_COUNT.statement, [_COUNT.values(row) for row in rows])


async def read(session: AsyncSession, customer_id: UUID) -> FavoritesOut:
    rows = await session.execute(
        select(CustomerFavorite.kind, CustomerFavorite.value, CustomerFavorite.count).where(
            CustomerFavorite.customer_id == customer_id, CustomerFavorite.count > 0
        )
    )
    counts: Counter[tuple[str, str]] = Counter({(k, v): int(n) for k, v, n in rows})
    return top(counts)


def grouped_lines(*where: Any) -> Any:
    """Her completed orders' lines, identical ones grouped: (customer, sku, size, color, kept, quantity, lines)."""
    kinds = (OrderLine.sku, OrderLine.size, OrderLine.color, OrderLine.kept, OrderLine.quantity)
    return (
        select(OrderRow.customer_id, *kinds, func.count())
        .join(OrderRow, OrderLine.order_id == OrderRow.id)
        .join(Customer, Customer.id == OrderRow.customer_id)
        .where(OrderRow.status.in_([str(s) for s in COMPLETED]), Customer.merged_into_id.is_(None), *where)
        .group_by(OrderRow.customer_id, *kinds)
    )


async def recompute(session: AsyncSession, customer_ids: Iterable[UUID] | None) -> None:
    """From scratch, for these customers (a merge) or everyone (None: rows written around the app)."""
    ids = None if customer_ids is None else list(customer_ids)
    await session.execute(
        delete(CustomerFavorite).where(CustomerFavorite.customer_id.in_(ids))
        if ids is not None
        else delete(CustomerFavorite)
    )
    where = () if ids is None else (OrderRow.customer_id.in_(ids),)
    per: dict[UUID, list[tuple[Any, ...]]] = {}
    for customer_id, *rest in (await session.execute(grouped_lines(*where))).tuples():
        per.setdefault(customer_id, []).append(tuple(rest))
    rows = [
        {"customer_id": cid, "kind": k, "value": v, "count": n}
        for cid, lines in per.items()
        for (k, v), n in tally(lines).items()
    ]
    for first in range(0, len(rows), 5_000):
        await session.execute(insert(CustomerFavorite), rows[first : first + 5_000])
