"""An amended order written with Core statements: the hot path's writes without the ORM's unit of work.

An amendment changes one order it holds locked, so what to write is known exactly: the changed columns of its
row, the changed, added and removed lines, one event and its outbox rows. The ORM's flush would find the same
by comparing every loaded attribute, sorting the objects by dependency and building a statement per object,
and that was about a third of an amendment's CPU (py-spy, bench/README.md). Here each write is one statement
whose compiled form SQLAlchemy caches, all run in one call into the session's connection. The loaded row is then
brought up to date in memory as committed state (nothing left for a later flush), so the answer and any caller
read the order as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

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
_INSERT_EVENT = insert(cast(Table, OrderEvent.__table__))
_INSERT_OUTBOX = insert(cast(Table, OutboxMessage.__table__))


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
    row = writes.row
    connection.execute(_UPDATE_ORDER, {"order_id_": row.id, **writes.order})
    for found, line_id, columns in writes.lines:
        if found is not None and columns:
            connection.execute(_UPDATE_LINE, {"line_id_": line_id, **columns})
    added = [{"id": line_id, "order_id": row.id, **columns} for found, line_id, columns in writes.lines if not found]
    if added:
        connection.execute(_INSERT_LINES, added)
    if writes.removed:
        connection.execute(_DELETE_LINES, {"ids_": [line.id for line in writes.removed]})
    connection.execute(_INSERT_EVENT, writes.event)
    connection.execute(_INSERT_OUTBOX, writes.messages)
    written(session)  # the relay looks once this commits
    _as_written(session, writes)


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
