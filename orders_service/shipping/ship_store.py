"""A ship written with Core statements, as an amendment is (orders/store.py), not through the ORM's flush.

The ship changes one order it holds locked: its status (and courier), its version, one event, one outbox message,
and a new parcel row. The ORM's flush found the same by comparing every loaded attribute and sorting the objects,
and sent four statements. Here the order's writes are the amendment's (on PostgreSQL one statement) and the
parcel's INSERT one more, whose compiled form SQLAlchemy caches; on SQLite they all go with the COMMIT, in one
trip to its thread (db/sqlite_trips.py). The loaded row, and the parcel as the order's, are then committed state:
the answer shows them without reading them back, and a later flush finds nothing to do.
"""

from __future__ import annotations

import functools
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnDefault, Table, insert
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from orders_service.db import sqlite_trips
from orders_service.db.models import Shipment
from orders_service.orders import store

_SHIPMENTS = cast(Table, Shipment.__table__)
_INSERT_SHIPMENT = insert(_SHIPMENTS)  # built once; every column given, so its compiled form is one


def shipment_columns(order_id: UUID, courier: str, client_code: str) -> dict[str, Any]:
    """A new parcel's columns, each set: its own, and every other column's default (its id, times, pending)."""
    values: dict[str, Any] = {}
    for key, default in _defaults():
        values[key] = None if default is None else default.arg(None) if default.is_callable else default.arg
    values.update(order_id=order_id, courier=courier, client_code=client_code)
    return values


def write_ship(session: Session, writes: store.Writes, shipment: dict[str, Any]) -> None:
    """Run the order's writes and the parcel's INSERT in the session's transaction (session.run_sync)."""
    store.write_amendment(session, writes)
    connection = session.connection()
    with sqlite_trips.held(connection):  # SQLite: with the amendment's writes, in the COMMIT's trip
        connection.execute(_INSERT_SHIPMENT, shipment)
    made = Shipment(**{_ATTRIBUTES[key]: value for key, value in shipment.items()})
    make_transient_to_detached(made)  # persistent-to-be, every value committed: as if loaded
    session.add(made)
    set_committed_value(writes.row, "shipment", made)


@functools.cache
def _defaults() -> tuple[tuple[str, ColumnDefault | None], ...]:
    """Each column's Python-side default (None: it has none, NULL); the INSERT sentinel's too (NULL)."""
    found = []
    for column in _SHIPMENTS.c:
        default = column.default if isinstance(column.default, ColumnDefault) else None
        found.append((column.key, None if column.key == "sa_orm_sentinel" else default))
    return tuple(found)


_MAPPER = class_mapper(Shipment)
_ATTRIBUTES = {column.key: _MAPPER.get_property_by_column(column).key for column in _SHIPMENTS.c}
