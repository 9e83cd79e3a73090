"""Reading an order: `get_order` (its lines, parcel and shipment in one statement, optionally locked), the
amendment's `read_order` (the same, with her tier and the catalogue's stock beside it), and `merged_from`.

An order with its lines, parcel and shipment is read by one Core statement and made into ORM rows by hand.

The ORM's joined eager load of the same statement cost 0.6-0.8 ms of CPU per read (py-spy, bench/README.md):
it builds its row processors for three relationships on every execution and runs each row through them. Here
the rows come back as plain tuples (the statement's compiled form is cached), and the instances are made the
way the ORM makes loaded ones: the column values put in the instance's dict, then marked persistent and
committed (`make_transient_to_detached`) and attached to the session, the relationships set as committed
values. What callers get is the same as a loaded row: in the identity map, with nothing for a flush to find,
and any attribute change tracked as usual.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Select, Table, bindparam, exists, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, aliased, class_mapper, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from orders_service.catalogue import stock
from orders_service.catalogue.models import OrderParcel
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderLine, Shipment
from orders_service.domain.errors import NotFound


class _Part:
    """One mapped class's columns in the statement: where they start, and the attribute each fills."""

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        mapper: Mapper[Any] = class_mapper(cls)
        table = cast(Table, mapper.local_table)
        self.columns = list(table.c)
        self.keys = [mapper.get_property_by_column(column).key for column in self.columns]
        self.new = mapper.class_manager.new_instance

    def make(self, values: Sequence[Any]) -> Any:
        instance = self.new()
        instance.__dict__.update(zip(self.keys, values, strict=True))
        make_transient_to_detached(instance)  # persistent-to-be, every value committed: as if loaded
        return instance


_ORDER, _LINE, _SHIPMENT, _PARCEL = _Part(OrderRow), _Part(OrderLine), _Part(Shipment), _Part(OrderParcel)
_ORDERS = cast(Table, OrderRow.__table__)
_LINES = cast(Table, OrderLine.__table__)
_SHIPMENTS = cast(Table, Shipment.__table__)
_PARCELS = cast(Table, OrderParcel.__table__)


def statement(extras: Sequence[ColumnElement[Any]], lock: bool) -> Select[Any]:
    """The order's columns, then `extras` (scalar subqueries on its row), then its lines', shipment's and
    parcel's columns, one row per line (a line-less order: one row with NULL line columns)."""
    joined = (
        _ORDERS.outerjoin(_LINES, _LINES.c.order_id == _ORDERS.c.id)
        .outerjoin(_SHIPMENTS, _SHIPMENTS.c.order_id == _ORDERS.c.id)
        .outerjoin(_PARCELS, _PARCELS.c.order_id == _ORDERS.c.id)
    )
    columns = [*_ORDER.columns, *extras, *_LINE.columns, *_SHIPMENT.columns, *_PARCEL.columns]
    query = (
        select(*columns).select_from(joined).where(_ORDERS.c.id == bindparam("order_id")).order_by(_LINES.c.position)
    )
    return query.with_for_update(key_share=True, of=_ORDERS) if lock else query


async def read(
    session: AsyncSession, query: Select[Any], order_id: Any, n_extras: int
) -> tuple[OrderRow, tuple[Any, ...]] | None:
    """Run `statement(...)`: the order as a persistent row of the session, and its extras' values (a tuple).
    For an order the session does not hold yet (read_order reads one it holds the ORM's way)."""
    # Through the session's connection: Core execution, even when a subquery names a mapped class (the tier),
    # which through session.execute would run the ORM's per-execution setup for a statement of plain columns.
    connection = await session.connection()
    rows = (await connection.execute(query, {"order_id": order_id})).all()
    if not rows:
        return None
    n_order = len(_ORDER.columns)
    first = rows[0]
    extras = tuple(first[n_order : n_order + n_extras])
    start = n_order + n_extras
    line_end = start + len(_LINE.columns)
    ship_end = line_end + len(_SHIPMENT.columns)
    row = _ORDER.make(first[:n_order])
    lines = [_LINE.make(r[start:line_end]) for r in rows if r[start] is not None]
    shipment = _SHIPMENT.make(first[line_end:ship_end]) if first[line_end] is not None else None
    parcel = _PARCEL.make(first[ship_end:]) if first[ship_end] is not None else None
    for line in lines:
        set_committed_value(line, "order", row)
    set_committed_value(row, "lines", lines)
    set_committed_value(row, "shipment", shipment)
    set_committed_value(row, "parcel", parcel)
    session.add(row)  # cascades to its lines and parcel (the shipment is view-only: added on its own)
    if shipment is not None:
        session.add(shipment)
    return row, extras


# The order, lines and shipment in one statement (not three selectin round trips), and whether any order was
# merged into it: when none was, the answer's `merged_from` needs no query of its own.
_HAS_SOURCES = exists().where(aliased(OrderRow).merged_into_id == OrderRow.id).correlate(OrderRow).label("has_sources")
_WHOLE_ORDER = (joinedload(OrderRow.lines), joinedload(OrderRow.shipment), joinedload(OrderRow.parcel))
# What a read carries along: one scalar subquery on the order's row, several (a tuple), or nothing.
Along = ColumnElement[Any] | tuple[ColumnElement[Any], ...] | None
NO_SOURCES = "orders_service.orders_without_sources"  # session.info: ids read here with no merged-in order
_NOTHING = null().label("along")


async def get_order(session: AsyncSession, order_id: UUID, *, lock: bool = False) -> OrderRow:
    """The order, lines and shipment in one statement; `lock`: FOR NO KEY UPDATE OF orders (SQLite: one writer)."""
    row, _ = await read_order(session, order_id, lock, None)
    return row


async def read_order(
    session: AsyncSession, order_id: UUID, lock: bool, along: Along, *, stock_read: bool = False
) -> tuple[OrderRow, Any]:
    """get_order, with `along` (a scalar subquery on the order's row, e.g. her tier) read in the same statement:
    its value; a tuple of them: their values, a tuple. `stock_read`: and whether the catalogue sells any of its
    SKUs (when not, stock needs no lookup of them).

    One Core statement made into rows by `read` (the ORM's joined load of it cost about 0.3 ms more on
    PostgreSQL, 0.1 ms on SQLite); an order this session already holds is read the ORM's way, which fills in what
    that instance has not loaded."""
    n_along = len(along) if isinstance(along, tuple) else 1
    if session.identity_map.get(session.identity_key(OrderRow, (order_id,))) is None:
        found = await read(session, _order_query(lock, along, stock_read), order_id, 1 + n_along + int(stock_read))
    else:
        found = await _read_loaded(session, order_id, lock, along, stock_read)
    if found is None:
        raise NotFound("order", order_id)
    row, (has_sources, *values) = found
    value, sells = (tuple(values[:n_along]) if isinstance(along, tuple) else values[0]), values[n_along:]
    if not has_sources:  # a merge into it needs its lock (SQLite: the one writer); see merged_from
        session.info.setdefault(NO_SOURCES, set()).add(row.id)
    if sells and not sells[0]:
        stock.sold_none(session, (line.sku for line in row.lines))
    return row, value


async def _read_loaded(
    session: AsyncSession, order_id: UUID, lock: bool, along: Along, stock_read: bool
) -> tuple[OrderRow, tuple[Any, ...]] | None:
    found = (await session.execute(_orm_query(lock, along, stock_read), {"order_id": order_id})).unique().first()
    return None if found is None else (found[0], tuple(found[1:]))


@functools.lru_cache(maxsize=16)
def _order_query(lock: bool, along: Along, stock_read: bool = False) -> Select[Any]:
    """Built once per kind (SQLAlchemy memoises a statement's cache key on the statement object itself)."""
    return statement(_extras(along, stock_read), lock)


@functools.lru_cache(maxsize=16)
def _orm_query(lock: bool, along: Along, stock_read: bool) -> Select[Any]:
    query = select(OrderRow, *_extras(along, stock_read)).options(*_WHOLE_ORDER)
    query = query.where(OrderRow.id == bindparam("order_id"))
    if not lock:
        return query
    # Locked, the instance becomes the order as committed now: the ORM does not overwrite what it loaded before
    # (a ship with a body read the order, then asked the couriers for quotes), and the caller's If-Match check,
    # transition and writes must see the order it holds locked.
    return query.with_for_update(key_share=True, of=OrderRow).execution_options(populate_existing=True)


def _extras(along: Along, stock_read: bool) -> list[ColumnElement[Any]]:
    tail = [stock.SELLS_ANY] if stock_read else []
    if isinstance(along, tuple):
        return [_HAS_SOURCES, *(column.label(f"along_{i}") for i, column in enumerate(along)), *tail]
    return [_HAS_SOURCES, _NOTHING if along is None else along.label("along"), *tail]


async def merged_from(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
    result: dict[UUID, list[UUID]] = {i: [] for i in ids}
    # Known to have none when read, unless this session merged one into it since (sources are loaded to merge).
    known = session.info.get(NO_SOURCES, set()) - {
        o.merged_into_id for o in session.identity_map.values() if isinstance(o, OrderRow)
    }
    ids = [i for i in ids if i not in known]
    if ids:
        rows = await session.execute(
            select(OrderRow.merged_into_id, OrderRow.id).where(OrderRow.merged_into_id.in_(ids))
        )
        for into, source in rows.tuples():
            if into is not None:
                result[into].append(source)
    return result
