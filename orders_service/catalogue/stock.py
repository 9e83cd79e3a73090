"""Stock that orders hold: the one place order use cases call to reserve, move, release, sell and restock.

Each order's reservations are rows (`stock_reservations`), and a variant's `reserved` is their sum. A change
computes what the orders it touches now want, compares it with what they hold, and applies the difference
per variant: decreases first (a merge or a split gives back before it takes), then increases, each a single
`UPDATE ... SET reserved = reserved + n WHERE stock - reserved >= n` whose row count says whether it fitted.
Two orders for the last item cannot both pass: PostgreSQL re-checks the condition on the row it waited for,
SQLite has one writer. Variants are updated in id order so that concurrent changes never wait in a circle.
Nothing commits here: a refusal (OutOfStock) fails the caller's transaction, order and stock together.

Orders whose SKUs the catalogue does not sell hold nothing; their parcel weighs the default as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

from sqlalchemy import delete, exists, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import NO_VALUE

from orders_service.catalogue.measure import (
    FieldOf,
    Found,
    Snapshot,
    default_field,
    describe,
    first_beyond,
    kept,
    key,
    measure,
    wanted,
)
from orders_service.catalogue.models import OrderParcel, Product, ProductVariant, StockReservation, StockSale
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderLine
from orders_service.domain.errors import OutOfStock
from orders_service.domain.model import Line, Order, OrderStatus
from orders_service.domain.operations import AddLine, Operation

SETTLED = frozenset({OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED})
ENDED = frozenset({OrderStatus.CANCELLED, OrderStatus.MERGED, OrderStatus.RETURNED})


# The last snapshot each session read: pricing and reserving a new order's lines read the catalogue once. Only
# ids, prices, weights and sizes are taken from it, which a request does not change under itself; whether stock
# suffices is decided by the UPDATE, never by a snapshot. Catalogue writes forget it (forget()).
_LAST: weakref.WeakKeyDictionary[AsyncSession, tuple[frozenset[str], Snapshot]] = weakref.WeakKeyDictionary()


def forget(session: AsyncSession) -> None:
    _LAST.pop(session, None)


# Whether the catalogue sells any of an order's SKUs, as a column the order's own SELECT carries: most shops'
# orders name SKUs it does not sell, and then an amendment of their quantities needs no lookup of its own.
SELLS_ANY = (
    exists()
    .where(Product.sku.in_(select(OrderLine.sku).where(OrderLine.order_id == OrderRow.id)))
    .correlate(OrderRow)
    .label("sells_any")
)


def sold_none(session: AsyncSession, skus: Iterable[str]) -> None:
    """The catalogue sells none of these SKUs, as SELLS_ANY read in this transaction: a lookup of them (or of
    fewer) answers the empty snapshot without a statement, as it would have read."""
    if session not in _LAST:
        _LAST[session] = (frozenset(skus), Snapshot({}))


async def lookup(session: AsyncSession, skus: Iterable[str], *, fresh: bool = False) -> Snapshot:
    """The catalogue's variants of these SKUs (one statement; none when there are no SKUs or the session's last
    snapshot covers them). `fresh`: read stock and reserved as they are now (to show them)."""
    wanted_skus = sorted(set(skus))
    if not wanted_skus:
        return Snapshot({})
    last = _LAST.get(session)
    # A fresh read refreshes stock and reserved; a snapshot that found none of these SKUs has none to refresh (the
    # order's own read says so, sold_none; catalogue writes forget it): the customer page of an order of SKUs
    # the catalogue does not sell asks it nothing.
    if last is not None and last[0].issuperset(wanted_skus) and (not fresh or not last[1].variants):
        return last[1]
    rows = await session.execute(
        select(
            ProductVariant.id,
            Product.sku,
            ProductVariant.size,
            ProductVariant.color,
            Product.name,
            ProductVariant.price,
            ProductVariant.weight_g,
            Product.weight_g,
            Product.length_cm,
            Product.width_cm,
            Product.height_cm,
            ProductVariant.stock,
            ProductVariant.reserved,
        )
        .join(Product, Product.id == ProductVariant.product_id)
        .where(Product.sku.in_(wanted_skus))
    )
    variants = {}
    for vid, sku, size, color, name, price, own_weight, weight, length, width, height, stock, reserved in rows:
        variants[key(sku, size, color)] = Found(
            vid, name, price, own_weight or weight, length, width, height, stock, reserved
        )
    snapshot = Snapshot(variants)
    _LAST[session] = (frozenset(wanted_skus), snapshot)
    return snapshot


async def _held(session: AsyncSession, order_ids: Sequence[UUID]) -> dict[tuple[UUID, UUID], int]:
    rows = await session.execute(
        select(StockReservation.order_id, StockReservation.variant_id, StockReservation.quantity).where(
            StockReservation.order_id.in_(order_ids)
        )
    )
    return {(order_id, variant_id): quantity for order_id, variant_id, quantity in rows.tuples()}


async def _set_parcel(
    session: AsyncSession, row: OrderRow, lines: Sequence[Line], snapshot: Snapshot, *, new: bool
) -> None:
    """Keep the order's measure; an order with nothing from the catalogue needs none (it weighs the default)."""
    state = inspect(row)
    if not snapshot.variants and state.dict.get("parcel", NO_VALUE) is None:
        return  # nothing from the catalogue, before as after: no measure to keep
    size = measure(lines, snapshot)
    if state.dict.get("parcel", NO_VALUE) is NO_VALUE:
        if new or not state.persistent:
            set_committed_value(row, "parcel", None)  # a new order has none: no need to ask
        else:
            await session.refresh(row, ["parcel"])
    parcel = row.parcel
    if size.length_cm is None and all(line["weight_g"] is None for line in size.lines.values()):
        if parcel is not None:
            row.parcel = None  # delete-orphan: its lines left the catalogue
        return
    if parcel is None:
        row.parcel = OrderParcel(
            weight_g=size.weight_g,
            length_cm=size.length_cm,
            width_cm=size.width_cm,
            height_cm=size.height_cm,
            lines=size.lines,
        )
        return
    parcel.weight_g, parcel.lines = size.weight_g, size.lines
    parcel.length_cm, parcel.width_cm, parcel.height_cm = size.length_cm, size.width_cm, size.height_cm


def _may_hold(row: OrderRow) -> bool:
    """Whether the order may hold stock: only lines measured from the catalogue ever reserved (an order measured
    with none of them, or never measured, holds nothing: no need to ask)."""
    parcel = inspect(row).dict.get("parcel", NO_VALUE)
    if parcel is NO_VALUE:
        return True
    return parcel is not None and any(line.get("weight_g") is not None for line in parcel.lines.values())


async def _hold(
    session: AsyncSession,
    orders: Sequence[tuple[OrderRow, Sequence[Line] | None]],
    field_of: FieldOf = default_field,
    *,
    new: bool = False,
    dry: bool = False,
) -> None:
    """Each order now holds what its lines send (None: nothing); `new`: they held nothing before; `dry`: only
    say whether it could (OutOfStock if not), writing nothing."""
    skus = (line.sku for _, lines in orders for line in lines or ())
    snapshot = await lookup(session, skus, fresh=dry)
    want: dict[tuple[UUID, UUID], int] = {}
    blame: dict[tuple[UUID, UUID], list[tuple[str, int]]] = {}
    for row, lines in orders:
        if lines is None:
            continue
        counts, fields = wanted(lines, snapshot, field_of)
        want.update({(row.id, vid): n for vid, n in counts.items()})
        blame.update({(row.id, vid): field for vid, field in fields.items()})
        if not dry:
            await _set_parcel(session, row, lines, snapshot, new=new)
    ids = [row.id for row, _ in orders]
    held = {} if new or not any(_may_hold(row) for row, _ in orders) else await _held(session, ids)
    if want == held:
        return
    net: dict[UUID, int] = {}
    for at in set(want) | set(held):
        net[at[1]] = net.get(at[1], 0) + want.get(at, 0) - held.get(at, 0)
    if dry:
        available = {found.variant_id: found.available for found in snapshot.variants.values()}
        for vid in sorted((v for v, n in net.items() if n > available.get(v, 0)), key=str):
            await _refuse(session, vid, want, held, blame, snapshot)
        return
    for vid in sorted((v for v, n in net.items() if n < 0), key=str):
        await session.execute(
            update(ProductVariant).where(ProductVariant.id == vid).values(reserved=ProductVariant.reserved + net[vid])
        )
    for vid in sorted((v for v, n in net.items() if n > 0), key=str):
        done = await session.execute(
            update(ProductVariant)
            .where(ProductVariant.id == vid, ProductVariant.stock - ProductVariant.reserved >= net[vid])
            .values(reserved=ProductVariant.reserved + net[vid])
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            await _refuse(session, vid, want, held, blame, snapshot)
    changed = sorted({at[0] for at in set(want) | set(held) if want.get(at) != held.get(at)}, key=str)
    await session.execute(delete(StockReservation).where(StockReservation.order_id.in_(changed)))
    rows = [{"order_id": o, "variant_id": v, "quantity": n} for (o, v), n in want.items() if o in changed and n]
    if rows:
        await session.execute(insert(StockReservation), rows)


async def _refuse(
    session: AsyncSession,
    vid: UUID,
    want: Mapping[tuple[UUID, UUID], int],
    held: Mapping[tuple[UUID, UUID], int],
    blame: Mapping[tuple[UUID, UUID], list[tuple[str, int]]],
    snapshot: Snapshot,
) -> None:
    at = next(k for k in sorted(want, key=str) if k[1] == vid and want[k] > held.get(k, 0))
    stock, reserved = (
        await session.execute(select(ProductVariant.stock, ProductVariant.reserved).where(ProductVariant.id == vid))
    ).one()
    available = max(0, stock - reserved)
    name = next(describe(k) for k, found in snapshot.variants.items() if found.variant_id == vid)
    field = first_beyond(blame[at], held.get(at, 0) + available)
    raise OutOfStock(field, f"{name}: {want[at]} wanted, {available} available")


async def reserve(session: AsyncSession, row: OrderRow, order: Order, field_of: FieldOf = default_field) -> None:
    """A new order holds what its lines send (create)."""
    await _hold(session, [(row, order.lines)], field_of, new=True)


async def move(
    session: AsyncSession,
    orders: Sequence[tuple[OrderRow, Order | None]],
    field_of: FieldOf = default_field,
) -> None:
    """Orders whose lines changed (an amendment; a merge's sources (None) and survivor; a split's parts) now hold
    what their lines send; all of them in one step, so stock moving between them never counts twice."""
    await _hold(session, [(row, None if order is None else order.lines) for row, order in orders], field_of)


async def check(session: AsyncSession, row: OrderRow, order: Order, field_of: FieldOf = default_field) -> None:
    """A dry run: whether the order could hold what its lines would send (OutOfStock if not); nothing written."""
    await _hold(session, [(row, order.lines)], field_of, dry=True)


async def release(session: AsyncSession, *rows: OrderRow) -> None:
    """The orders hold nothing any more (cancelled, merged away, the parcel came back)."""
    await _hold(session, [(row, None) for row in rows])


async def sell(session: AsyncSession, row: OrderRow, order: Order) -> None:
    """A delivery: what she kept leaves stock (at most what the order held), and every reservation ends."""
    if not _may_hold(row):
        return
    held = {vid: n for (_, vid), n in (await _held(session, [row.id])).items()}
    if not held:
        return
    sold = kept(order.lines, await lookup(session, (line.sku for line in order.lines)))
    for vid in sorted(held, key=str):
        out = min(sold.get(vid, 0), held[vid])
        await session.execute(
            update(ProductVariant)
            .where(ProductVariant.id == vid)
            .values(stock=ProductVariant.stock - out, reserved=ProductVariant.reserved - held[vid])
        )
    await session.execute(delete(StockReservation).where(StockReservation.order_id == row.id))
    sales = [
        {"order_id": row.id, "variant_id": vid, "sold": min(sold.get(vid, 0), n), "restocked": 0}
        for vid, n in held.items()
        if sold.get(vid, 0)
    ]
    if sales:
        await session.execute(insert(StockSale), sales)


async def restock(session: AsyncSession, row: OrderRow) -> None:
    """A delivered order came back to the shop: what it sold is on hand again (once)."""
    rows = await session.execute(
        select(StockSale.variant_id, StockSale.sold - StockSale.restocked).where(
            StockSale.order_id == row.id, StockSale.sold > StockSale.restocked
        )
    )
    back = sorted(rows.tuples(), key=lambda r: str(r[0]))
    for vid, n in back:
        await session.execute(
            update(ProductVariant).where(ProductVariant.id == vid).values(stock=ProductVariant.stock + n)
        )
    if back:
        await session.execute(update(StockSale).where(StockSale.order_id == row.id).values(restocked=StockSale.sold))


async def restock_items(
    session: AsyncSession, row: OrderRow, items: Iterable[tuple[str, str | None, str | None, int]]
) -> int:
    """Some of what a delivered order sold came back (an approved return request): on hand again, at most what
    its delivery took out and no return put back yet, so a later whole return restocks only the rest. Items the
    catalogue does not sell are left alone. Answers how many units went back on hand."""
    wanted: dict[UUID, int] = {}
    items = list(items)
    snapshot = await lookup(session, (sku for sku, _, _, _ in items), fresh=True)
    for sku, size, color, quantity in items:
        found = snapshot.variants.get(key(sku, size, color))
        if found is not None:
            wanted[found.variant_id] = wanted.get(found.variant_id, 0) + quantity
    back = 0
    for vid in sorted(wanted, key=str):
        left = await session.scalar(
            select(StockSale.sold - StockSale.restocked).where(
                StockSale.order_id == row.id, StockSale.variant_id == vid
            )
        )
        n = min(wanted[vid], int(left or 0))
        if n <= 0:
            continue
        await session.execute(
            update(ProductVariant).where(ProductVariant.id == vid).values(stock=ProductVariant.stock + n)
        )
        await session.execute(
            update(StockSale)
            .where(StockSale.order_id == row.id, StockSale.variant_id == vid)
            .values(restocked=StockSale.restocked + n)
        )
        back += n
    return back


async def follow(session: AsyncSession, row: OrderRow, before: Order, after: Order) -> None:
    """A status move made by a courier's report or staff's review: delivered sells, came back releases (or,
    once delivered, restocks); anything else leaves stock as it is."""
    if after.status in SETTLED and before.status not in SETTLED:
        await sell(session, row, after)
    elif after.status is OrderStatus.RETURNED and before.status in SETTLED:
        await restock(session, row)
    elif after.status in ENDED and before.status not in ENDED:
        await release(session, row)


def amendment_fields(operations: Sequence[Operation], before: Order) -> FieldOf:
    """Name a line of an amended order by the operation that touched it last (`operations[k]`, or
    `operations[k].line` for a line it added), else by its place in the order (`lines[i]`)."""
    by_line: dict[str, str] = {}
    added: list[str] = []
    for k, op in enumerate(operations):
        line_id = getattr(op, "line_id", None)
        if line_id is not None:
            by_line[str(line_id)] = f"operations[{k}]"
        elif isinstance(op, AddLine):
            added.append(f"operations[{k}].line")
    old = {line.id for line in before.lines}

    def field_of(line: Line, index: int) -> str:
        if line.id not in by_line and line.id not in old and added:
            by_line[line.id] = added.pop(0)  # new lines come in the order their add_line operations came
        return by_line.get(line.id, f"lines[{index}]")

    return field_of
