"""Engine creation: SQLite in WAL mode with a busy timeout and BEGIN IMMEDIATE for writes, or PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine, event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from orders_service.db.sqlite_trips import OneHopConnection
from orders_service.infra.settings import Settings

log = logging.getLogger(__name__)

# A write transaction on SQLite must take the write lock at BEGIN: a deferred transaction that reads and
# then writes fails at once with SQLITE_BUSY if another writer committed in between, whatever the timeout.
WRITE_OPTIONS = {"sqlite_begin": "IMMEDIATE"}


def create_engine(settings: Settings, **kwargs: Any) -> AsyncEngine:
    pooled = "poolclass" not in kwargs
    kwargs.setdefault("json_serializer", json_text)
    kwargs.setdefault("json_deserializer", json_value)
    if not settings.is_sqlite:
        if pooled:
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 10)
        engine = create_async_engine(settings.database_url, **kwargs)
        if pooled and not kwargs.get("pool_pre_ping"):
            event.listen(engine.sync_engine, "checkout", _closed_is_gone)
        return engine
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _create_private(settings.database_url)
    if pooled:
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 8)
    engine = create_async_engine(settings.database_url, **kwargs)
    _configure_sqlite(engine, settings)
    _QUEUES[engine.sync_engine] = _queue_for(engine)
    return engine


def json_text(value: Any) -> str:
    """A JSON column's value as text, by msgspec: what `json.dumps` wrote, without its escapes of non-ASCII
    letters, at a fraction of its cost (an amendment writes its event's operations and changes, and two outbox
    payloads: 16 us by `json.dumps`, 2 us here; py-spy put the standard encoder at 1-2% of its CPU).

    A subclass of str, int or float (a Markup, say) is written as its value. What msgspec refuses and
    `json.dumps` takes (a dict keyed by True or None) is still written, by `json.dumps`."""
    try:
        return _JSON.encode(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def json_value(text: str | bytes) -> Any:
    """A JSON column's text as a value; what msgspec refuses and `json.loads` reads (NaN) still reads."""
    try:
        return _JSON_DECODE(text)
    except msgspec.DecodeError:
        return json.loads(text)


def _as_builtin(value: Any) -> Any:
    for base in (str, int, float):
        if isinstance(value, base):
            return base(value)
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


_JSON = msgspec.json.Encoder(enc_hook=_as_builtin)
_JSON_DECODE = msgspec.json.Decoder().decode


def _closed_is_gone(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server closed (a restart, a failover, pg_terminate_backend) is replaced at
    checkout, without a round trip.

    pool_pre_ping did this with three (asyncpg's ping is BEGIN, ";", ROLLBACK) on every checkout: several per
    request once the relay's sessions count. A server that ends a connection closes its socket, and the driver
    sees that as soon as the event loop reads it; a connection lost without a word (a network cut) fails its
    first statement instead, which is answered 503 to retry, and SQLAlchemy then replaces the pool's older
    connections.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this connection")


def _create_private(database_url: str) -> None:
    """Create a missing SQLite file readable by its owner only (0600), like the secrets beside it.

    The database holds customers' names, phones and addresses, and SQLite would create it with the process's
    umask (0644 usually). An empty file is a valid empty database; SQLite gives the -wal and -shm files it
    makes later the database file's own permissions. An existing file is left as its owner set it.
    """
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: AsyncEngine, settings: Settings) -> None:
    synchronous = settings.sqlite_synchronous if settings.sqlite_synchronous in {"FULL", "NORMAL"} else "FULL"

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
            dbapi_connection.__class__ = OneHopConnection
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class _Turn:
    """One writer waiting in the queue, on its own event loop (the API's, or the relay's thread's)."""

    __slots__ = ("future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.future, self.granted = loop, loop.create_future(), False

    def grant(self) -> bool:
        """Called with the queue's mutex held: the turn is this writer's, told on its own loop."""
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # its loop is closed: it waits no more
            return False
        self.granted = True
        return True

    def _wake(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class WriterQueue:
    """SQLite writers of this process wait their turn here, first come first served.

    SQLite's own busy handler sleeps and retries, so under load a waiting writer can lose every race and
    fail after the busy timeout ("database is locked"). Queuing in the process first leaves SQLite's lock
    to arbitrate only between processes. One queue serves every engine of the process on one database file,
    whatever thread and event loop each runs on (the embedded relay has its own: relay/threaded.py), so the
    relay's writers and the API's take turns in arrival order.
    """

    WAIT_S = 30.0

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[_Turn] = deque()
        self._holder: weakref.ref[Session] | None = None

    async def enter(self, session: AsyncSession) -> None:
        if session.info.get(_HOLDS_QUEUE):
            return
        turn: _Turn | None = None
        with self._mutex:
            if self._busy:
                turn = _Turn(asyncio.get_running_loop())
                self._waiting.append(turn)
            else:
                self._busy = True
        if turn is not None:
            await self._wait(turn)
        self._holder = weakref.ref(session.sync_session)
        session.info[_HOLDS_QUEUE] = self

    async def _wait(self, turn: _Turn) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(turn.future), timeout=self.WAIT_S)
            return
        except TimeoutError:
            with self._mutex:
                granted = self._withdraw(turn)
            if granted:  # it came as the wait ran out: take it
                return
            if not self._holder_is_gone():
                raise DatabaseBusy(f"the database stayed busy for {self.WAIT_S:.0f} s; try again") from None
            # The holder's transaction ended without telling us (a task cut off mid-rollback): take its turn.
            log.warning("SQLite writer queue: reclaiming the turn of a writer that went away")
        except BaseException:  # cancelled while waiting: a turn given meanwhile goes to the next writer
            with self._mutex:
                granted = self._withdraw(turn)
            if granted:
                self._hand_on()
            raise

    def _withdraw(self, turn: _Turn) -> bool:
        """With the mutex held: stop waiting; returns whether the turn had already been given to it."""
        if turn.granted:
            return True
        if turn in self._waiting:  # else passed over: its loop was closed when its turn came
            self._waiting.remove(turn)
        return False

    def _holder_is_gone(self) -> bool:
        holder = self._holder() if self._holder is not None else None
        return holder is None or not holder.in_transaction()

    def leave(self, session: Session) -> None:
        holder = self._holder() if self._holder is not None else None
        if holder is not None and holder is not session:
            return  # a writer whose turn was reclaimed, ending late: the turn is no longer its own
        self._holder = None
        self._hand_on()

    def _hand_on(self) -> None:
        with self._mutex:
            while self._waiting:
                if self._waiting.popleft().grant():
                    return
            self._busy = False


def _queue_for(engine: AsyncEngine) -> WriterQueue:
    """The process's one queue for the engine's database file (a fresh one for an in-memory database)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return WriterQueue()
    key = os.path.realpath(database)
    with _SHARED_LOCK:
        queue = _SHARED.get(key)
        if queue is None:
            queue = _SHARED[key] = WriterQueue()
        return queue


_HOLDS_QUEUE = "orders_service.writer_queue"
_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()
# Per database file, while an engine on it lives: the engines of the API and of the relay's thread share it.
_SHARED: weakref.WeakValueDictionary[str, WriterQueue] = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()


@event.listens_for(Session, "after_transaction_end")
def _leave_queue(session: Session, transaction: SessionTransaction) -> None:
    """The writer's transaction ended (commit, rollback or close): the next writer's turn."""
    if transaction.parent is None and (queue := session.info.pop(_HOLDS_QUEUE, None)) is not None:
        queue.leave(session)


class DatabaseBusy(Exception):
    """Waited too long for a turn to write; the request can be retried."""


async def begin_write(session: AsyncSession) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite; plain BEGIN elsewhere)."""
    transaction = session.sync_session.get_transaction()
    # `session.begin()` alone opens no connection yet; what matters is whether BEGIN was already sent.
    if transaction is None or not transaction._connections:
        queue = _QUEUES.get(session.bind.sync_engine) if isinstance(session.bind, AsyncEngine) else None
        if queue is not None:
            await queue.enter(session)
        await session.connection(execution_options=WRITE_OPTIONS)
