"""Fewer trips to aiosqlite's thread: a statement in one trip, and a change's writes in one trip together.

aiosqlite runs SQLite in a thread of its own; every call the adapter awaits is a trip there and back: a queue
put, a thread switch, a turn of the GIL, a wake-up of the event loop. Under load each trip costs 0.15-0.25 ms of
CPU (bench/README.md), about as much as the statement itself.

- `OneHopCursor`: SQLAlchemy's adapter awaits the cursor, the execute, the rows and the close, four trips;
  here they run together in the thread. What the caller gets (description, rows, lastrowid, rowcount, errors)
  is the same.
- A transaction's BEGIN (db/engine.py sends `BEGIN IMMEDIATE` for writers) waits on the connection and goes
  with its first statement, in the same trip: SQLite takes the write lock at that moment instead of one trip
  earlier, with nothing run in between. A transaction that runs nothing sends neither BEGIN nor COMMIT.
- `held(connection)`: writes whose outcome the caller does not read (an amendment's UPDATEs and INSERTs, no
  rowcount asked, nothing returned) wait on the connection and go with its next statement, in the same trip and
  in order, before it. An error of a held write is raised by that statement, inside SQLAlchemy's execute, so
  it reaches the caller wrapped as any statement's error would. Reads always see the held writes: nothing is
  run between them. A COMMIT takes any still held with it; a ROLLBACK forgets them, as it would undo them.

SQLAlchemy's events see every statement as before (they fire when it is given to the cursor, not when sent).
"""

from __future__ import annotations

import contextlib
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.ext.asyncio import AsyncSession

_WRITES = ("INSERT", "UPDATE", "DELETE")


class _Held:
    """The writes waiting on one aiosqlite connection: (statement, parameters, executemany?)."""

    __slots__ = ("on", "writes")

    def __init__(self) -> None:
        self.on = False
        self.writes: list[tuple[str, Any, bool]] = []

    def take(self) -> list[tuple[str, Any, bool]]:
        writes, self.writes = self.writes, []
        return writes


# Keyed by aiosqlite's connection object: the adapter's classes have __slots__ and no room for it.
_HELD: weakref.WeakKeyDictionary[Any, _Held] = weakref.WeakKeyDictionary()


def _run_held(connection: sqlite3.Connection, writes: list[tuple[str, Any, bool]]) -> None:
    for operation, parameters, many in writes:
        cursor = connection.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            else:
                cursor.execute(operation, () if parameters is None else parameters)
        finally:
            cursor.close()


def _is_begin(operation: str) -> bool:
    return operation.lstrip()[:6].upper() in ("BEGIN", "BEGIN ")


def _holds(held: _Held, operation: str) -> bool:
    """Whether this statement waits: a BEGIN, or a plain write while its connection holds writes."""
    if _is_begin(operation):
        return True
    return held.on and operation.lstrip()[:6].upper() in _WRITES and "RETURNING" not in operation.upper()


def _held(driver: Any) -> _Held:
    held = _HELD.get(driver)
    if held is None:
        held = _HELD[driver] = _Held()
    return held


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A statement in one trip to aiosqlite's thread instead of three or four (with any held writes before it).
    Server-side cursors keep the adapter's way."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        before = self._wait_or_take(operation, parameters, many=False)
        if before is None:
            return

        def run(connection: sqlite3.Connection) -> tuple[Any, list[Any] | None, int | None, int]:
            _run_held(connection, before)
            cursor = connection.cursor()
            try:
                cursor.execute(operation, () if parameters is None else parameters)
                description = cursor.description
                return description, cursor.fetchall() if description else None, cursor.lastrowid, cursor.rowcount
            finally:
                cursor.close()

        description, rows, lastrowid, rowcount = self._trip(run)
        if description:
            self.description, self.lastrowid, self.rowcount = description, -1, -1
            self._rows = deque(rows or ())
        else:
            self.description, self.lastrowid, self.rowcount = None, lastrowid, rowcount

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        """Several rows of one statement (an amendment's outbox rows) in one trip as well."""
        rows = list(seq_of_parameters)
        before = self._wait_or_take(operation, rows, many=True)
        if before is None:
            return

        def run(connection: sqlite3.Connection) -> tuple[int | None, int]:
            _run_held(connection, before)
            cursor = connection.cursor()
            try:
                cursor.executemany(operation, rows)
                return cursor.lastrowid, cursor.rowcount
            finally:
                cursor.close()

        lastrowid, rowcount = self._trip(run)
        self.description, self.lastrowid, self.rowcount = None, lastrowid, rowcount

    def _wait_or_take(self, operation: str, parameters: Any, *, many: bool) -> list[tuple[str, Any, bool]] | None:
        """None when the statement waits on the connection (its outcome is not known yet); else what waited before
        it, to run first in its trip."""
        held = _held(self._connection)
        if not _holds(held, operation):
            return held.take()
        held.writes.append((operation, parameters, many))
        self.description, self.lastrowid, self.rowcount = None, 0, -1  # not known: not run yet
        return None

    def _trip(self, run: Any) -> Any:
        driver = self._connection
        try:
            return self.await_(driver._execute(run, driver._conn))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if not server_side:
            return OneHopCursor(self)
        self._send_held(lambda connection: None)  # a streaming cursor runs on its own: what waits goes first
        return super().cursor(server_side)

    def commit(self) -> None:
        writes = _held(self._connection).take()
        if all(_is_begin(operation) for operation, _, _ in writes) and not self._connection.in_transaction:
            return  # the transaction ran nothing (its BEGIN waited, never sent): nothing to commit, no trip
        self._send_held(lambda connection: connection.commit(), writes)

    def _send_held(self, then: Any, writes: list[tuple[str, Any, bool]] | None = None) -> None:
        """One trip: what waits on the connection (or `writes`), then `then(connection)`."""
        writes = _held(self._connection).take() if writes is None else writes

        def run(connection: sqlite3.Connection) -> None:
            _run_held(connection, writes)
            then(connection)

        try:
            self.await_(self._connection._execute(run, self._connection._conn))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        _held(self._connection).take()  # never sent: the rollback undoes them by forgetting them
        # The pool rolls back every connection it takes back (reset on return), nearly always one whose
        # transaction already ended with its COMMIT: for SQLite that ROLLBACK does nothing, but it cost a trip
        # to aiosqlite's thread per request. Asking SQLite whether a transaction is open needs no trip.
        if self._connection.in_transaction:
            super().rollback()


@contextlib.contextmanager
def held(connection: Connection) -> Iterator[None]:
    """Writes run in this block go to SQLite with the connection's next statement, in one trip (see the module's
    docstring); on any other database, or another driver, they run as usual."""
    adapted = connection.connection.dbapi_connection
    if not isinstance(adapted, OneHopConnection):
        yield
        return
    state = _held(adapted._connection)
    state.on = True
    try:
        yield
    finally:
        state.on = False


@contextlib.asynccontextmanager
async def held_in(session: AsyncSession) -> AsyncIterator[None]:
    """`held` for the connection of a session's transaction (a relay handler's writes that end it)."""
    with held((await session.connection()).sync_connection):  # type: ignore[arg-type]  # set once connected
        yield
