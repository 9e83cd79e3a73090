"""The transactional outbox: side effects written in the same transaction as the change they follow."""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from sqlalchemy import Engine, Table, event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from orders_service.db import sqlite_trips
from orders_service.db.models import OutboxMessage

_WRITTEN = "orders_service.outbox_written"
# Per engine, what to call once a transaction that wrote outbox rows has committed (the embedded relay's wake).
# Held weakly: the relay holds the engine, and a value that holds its own key keeps the entry, and all it
# reaches, for good. Each app made in a process stayed in memory with its engine, runtime and sandbox (the test
# workers grew to 2 GB, and their garbage collections to seconds).
_LISTENERS: weakref.WeakKeyDictionary[Engine, list[weakref.WeakMethod[Callable[[], None]]]] = (
    weakref.WeakKeyDictionary()
)


class Message(NamedTuple):
    """An outbox row to write: what the relay runs (topic), its key, and the payload it gets."""

    topic: str
    key: str
    payload: dict[str, Any]


def enqueue(session: AsyncSession, topic: str, key: str, payload: dict[str, Any]) -> OutboxMessage:
    """Add a message for the relay; it is committed, or rolled back, with the caller's transaction."""
    message = OutboxMessage(topic=topic, key=key, payload=payload)
    session.add(message)
    written(session)
    return message


_INSERT = insert(cast(Table, OutboxMessage.__table__))  # built once: its compiled form is cached


async def enqueue_now(
    session: AsyncSession, topic: str, key: str, payload: dict[str, Any], available_at: datetime.datetime | None = None
) -> None:
    """`enqueue` as one INSERT, without an object for the unit of work to flush at commit (about a tenth of a
    relay message's CPU): for the relay's own handlers, which write nothing else through the ORM. On SQLite it
    goes with the transaction's next statement or its COMMIT, in one trip (db/sqlite_trips.py)."""
    values: dict[str, Any] = {"topic": topic, "key": key, "payload": payload}
    if available_at is not None:
        values["available_at"] = available_at
    async with sqlite_trips.held_in(session):
        await session.execute(_INSERT, values)
    written(session)


def written(session: AsyncSession | Session) -> None:
    """The transaction makes a message due (new, or put back): wake the relay once it commits."""
    session.info[_WRITTEN] = True


def on_committed(engine: AsyncEngine, callback: Callable[[], None]) -> None:
    """Call `callback` after each commit on `engine` that wrote outbox rows: the relay looks at once.

    `callback` is a bound method, held weakly (see _LISTENERS): called while its object lives."""
    _LISTENERS.setdefault(engine.sync_engine, []).append(weakref.WeakMethod(callback))


@event.listens_for(Session, "after_commit")
def _notify(session: Session) -> None:
    if session.info.pop(_WRITTEN, False) and isinstance(session.bind, Engine):
        for listener in _LISTENERS.get(session.bind, ()):
            if (callback := listener()) is not None:
                callback()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
