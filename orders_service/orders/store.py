"""An amended order written with Core statements: the hot path's writes without the ORM's unit of work.

An amendment changes one order it holds locked, so what to write is known exactly: the changed columns of its
row, the changed, added and removed lines, one event and its outbox rows. The ORM's flush would find the same
by comparing every loaded attribute, sorting the objects by dependency and building a statement per object,
and that was about a third of an amendment's CPU (py-spy, bench/README.md). Here each write is one statement
whose compiled form SQLAlchemy caches, all run in one call into the session's connection (on SQLite, in one trip
to its thread: db/sqlite_trips.py). The loaded row is then
brought up to date in memory as committed state (nothing left for a later flush), so the answer and any caller
read the order as written.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnDefault, Connection, Insert, Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from orders_service.db import sqlite_trips
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderEvent, OrderLine, OutboxMessage
from orders_service.domain.model import Order
from orders_service.infra import clock
from orders_service.infra.outbox import Message, written
from orders_service.orders import mapping

_ORDERS, _LINES = cast(Table, OrderRow.__table__), cast(Table, OrderLine.__table__)
# Built once: SQLAlchemy caches a statement's compiled form by its structure and by the columns given.
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id_"))
_UPDATE_LINE = update(_LINES).where(_LINES.c.id == bindparam("line_id_"))
_INSERT_LINES = insert(_LINES)
_DELETE_LINES = delete(_LINES).where(_LINES.c.id.in_(bindparam("ids_", expanding=True)))
_EVENTS, _OUTBOX = cast(Table, OrderEvent.__table__), cast(Table, OutboxMessage.__table__)
_INSERT_EVENT = insert(_EVENTS)
_INSERT_OUTBOX = insert(_OUTBOX)


class Writes:
    """What changes between the loaded row and the domain order `after`, as statement parameters."""

    def __init__(self, row: OrderRow, after: Order, event: dict[str, Any], messages: Sequence[Message]) -> None:
        self.row = row
        self.order = {k: v for k, v in mapping.columns(after).items() if getattr(row, k) != v}
        self.order.update(version=event["version"], last_seq=event["seq"], updated_at=clock.now())
        self.event = event
        self.messages = [{"topic": m.topic, "key": m.key, "payload": m.payload} for m in messages]
        loaded = {str(line.id): line for line in row.lines}
        self.lines: list[tuple[OrderLine | None, UUID, dict[str, Any]]] = []  # (loaded row or None: new, id, columns)
        for position, line in enumerate(after.lines):
            columns = mapping.line_columns(line, position)
            found = loaded.pop(line.id, None)
            if found is not None:
                columns = {k: v for k, v in columns.items() if getattr(found, k) != v}
            self.lines.append((found, UUID(line.id), columns))
        self.removed = list(loaded.values())


def write_amendment(session: Session, writes: Writes) -> None:
    """Run the statements (in the session's transaction), then make the loaded row the written order."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(*_one_statement(writes))
    else:
        _each(connection, writes)
    written(session)  # the relay looks once this commits
    _as_written(session, writes)


def _each(connection: Connection, writes: Writes) -> None:
    """A statement per write. On SQLite they wait on the connection and go to its thread with the COMMIT, in one
    trip (db/sqlite_trips.py); a write that fails then fails the commit, which is answered 503 and keeps
    nothing (infra/commit.py), as a failed write would."""
    row = writes.row
    with sqlite_trips.held(connection):
        connection.execute(_UPDATE_ORDER, {"order_id_": row.id, **writes.order})
        for found, line_id, columns in writes.lines:
            if found is not None and columns:
                connection.execute(_UPDATE_LINE, {"line_id_": line_id, **columns})
        if added := _added(writes):
            connection.execute(_INSERT_LINES, added)
        if writes.removed:
            connection.execute(_DELETE_LINES, {"ids_": [line.id for line in writes.removed]})
        connection.execute(_INSERT_EVENT, writes.event)
        connection.execute(_INSERT_OUTBOX, writes.messages)


def _one_statement(writes: Writes) -> tuple[Insert, dict[str, Any]]:
    """PostgreSQL: every write in one statement, the last outbox row's INSERT with the others as data-modifying
    WITH queries: one round trip instead of four or more. They see one snapshot and touch different rows, so
    their order does not matter; the foreign keys are checked at the statement's end.

    The statement is built once per shape (which columns change, how many lines and messages) and its values
    are parameters, so SQLAlchemy neither rebuilds its cache key nor compiles it again. Every INSERT is one row:
    a multi-row VALUES is not cached by SQLAlchemy."""
    updates = [(line_id, cols) for found, line_id, cols in writes.lines if found is not None and cols]
    added = [_filled(_LINES, line) for line in _added(writes)]
    event, messages = _filled(_EVENTS, writes.event), [_filled(_OUTBOX, m) for m in writes.messages]
    params: dict[str, Any] = {"order_id_": writes.row.id, **_named("o", writes.order)}
    for i, (line_id, cols) in enumerate(updates):
        params.update({f"l{i}_id_": line_id, **_named(f"l{i}", cols)})
    for i, line in enumerate(added):
        params.update(_named(f"a{i}", line))
    if writes.removed:
        params["removed_"] = [line.id for line in writes.removed]
    params.update(_named("e", event))
    for i, message in enumerate(messages):
        params.update(_named(f"m{i}", message))
    statement = _statement(
        tuple(writes.order),
        tuple(tuple(cols) for _, cols in updates),
        tuple(tuple(line) for line in added),
        bool(writes.removed),
        tuple(event),
        tuple(tuple(message) for message in messages),
    )
    return statement, params


def _named(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{name}": value for name, value in values.items()}


def _binds(table: Table, prefix: str, columns: Sequence[str]) -> dict[str, Any]:
    return {name: bindparam(f"{prefix}_{name}", type_=table.c[name].type) for name in columns}


@functools.lru_cache(maxsize=256)
def _statement(
    order: tuple[str, ...],
    updates: tuple[tuple[str, ...], ...],
    added: tuple[tuple[str, ...], ...],
    removed: bool,
    event: tuple[str, ...],
    messages: tuple[tuple[str, ...], ...],
) -> Insert:
    """The statement of one shape of writes, its values bound by name (see _one_statement)."""
    parts: list[Any] = [
        update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id_")).values(_binds(_ORDERS, "o", order))
    ]
    for i, cols in enumerate(updates):
        parts.append(update(_LINES).where(_LINES.c.id == bindparam(f"l{i}_id_")).values(_binds(_LINES, f"l{i}", cols)))
    parts += [insert(_LINES).values(_binds(_LINES, f"a{i}", cols)) for i, cols in enumerate(added)]
    if removed:
        parts.append(delete(_LINES).where(_LINES.c.id.in_(bindparam("removed_", expanding=True))))
    parts.append(insert(_EVENTS).values(_binds(_EVENTS, "e", event)))
    *first, last = [insert(_OUTBOX).values(_binds(_OUTBOX, f"m{i}", cols)) for i, cols in enumerate(messages)]
    return last.add_cte(*(part.cte(f"w{i}") for i, part in enumerate([*parts, *first])))


def _added(writes: Writes) -> list[dict[str, Any]]:
    return [{"id": line_id, "order_id": writes.row.id, **cols} for found, line_id, cols in writes.lines if not found]


def _filled(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the columns' Python-side defaults: SQLAlchemy applies them to a statement's own table only,
    not to an INSERT inside a WITH."""
    filled = dict(values)
    for key, default in _defaults(table):
        if key not in filled:
            filled[key] = default.arg(None) if default.is_callable else default.arg
    return filled


@functools.cache
def _defaults(table: Table) -> tuple[tuple[str, ColumnDefault], ...]:
    return tuple((c.key, c.default) for c in table.c if isinstance(c.default, ColumnDefault))


def _as_written(session: Session, writes: Writes) -> None:
    """The loaded row and lines hold what was written, as committed state: a later flush finds nothing to do."""
    row = writes.row
    for name, value in writes.order.items():
        set_committed_value(row, name, value)
    lines = []
    for found, line_id, columns in writes.lines:
        line = found
        if line is None:  # inserted above: attached as a row the session already has, not a pending one
            line = OrderLine(id=line_id, order_id=row.id, **columns)
            make_transient_to_detached(line)
            session.add(line)
        else:
            for name, value in columns.items():
                set_committed_value(line, name, value)
        lines.append(line)
    for line in writes.removed:
        session.expunge(line)
    set_committed_value(row, "lines", lines)
