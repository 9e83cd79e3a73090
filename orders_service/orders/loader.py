"""An order with its lines, parcel and shipment, read by one Core statement and made into ORM rows by hand.

The ORM's joined eager load of the same statement cost 0.6-0.8 ms of CPU per read (py-spy, bench/README.md):
it builds its row processors for three relationships on every execution and runs each row through them. Here
the rows come back as plain tuples (the statement's compiled form is cached), and the instances are made the
way the ORM makes loaded ones: the column values put in the instance's dict, then marked persistent and
committed (`make_transient_to_detached`) and attached to the session, the relationships set as committed
values. What callers get is the same as a loaded row: in the identity map, with nothing for a flush to find,
and any attribute change tracked as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from orders_service.catalogue.models import OrderParcel
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderLine, Shipment


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
    For an order the session does not hold yet (services._read_order reads one it holds the ORM's way)."""
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
