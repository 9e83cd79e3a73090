"""A COMMIT that fails on purpose: the database connection is lost at the last moment of a transaction.

On PostgreSQL the connection's server process is terminated from another connection just before COMMIT is
sent, so the driver raises what it raises when a database restarts or a proxy drops the connection; SQLite has
no server to lose, so its COMMIT raises the OperationalError a lost connection would. Either way nothing of the
transaction is kept, and the service must not tell the client it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy import exc as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from orders_service.ops import context

_WRITES = ("INSERT", "UPDATE", "DELETE")
_WROTE = "tests.db_faults.wrote"
MARK = "commit-fault"  # the X-Request-ID of requests whose commit fails


class CommitFault:
    """Fails the COMMIT of transactions that wrote, while `when()` says so, at most `times` times."""

    def __init__(self, engine: AsyncEngine, when: Callable[[], bool], times: int = 1) -> None:
        self.engine, self.when, self.left, self.failed = engine, when, times, 0
        url = engine.url
        self._admin_dsn = (
            None
            if url.get_backend_name() != "postgresql"
            else make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._note_write)
        event.listen(sync, "commit", self._on_commit)
        event.listen(sync, "rollback", self._forget)

    def remove(self) -> None:
        sync = self.engine.sync_engine
        event.remove(sync, "before_cursor_execute", self._note_write)
        event.remove(sync, "commit", self._on_commit)
        event.remove(sync, "rollback", self._forget)

    def _note_write(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        head = statement.lstrip().upper()
        # PostgreSQL's amendment writes in one statement of data-modifying WITH parts (orders/store.py).
        if head.startswith(_WRITES) or (head.startswith("WITH") and any(w in head for w in _WRITES)):
            conn.info[_WROTE] = True

    def _forget(self, conn: Connection) -> None:
        conn.info.pop(_WROTE, None)

    def _on_commit(self, conn: Connection) -> None:
        wrote = conn.info.pop(_WROTE, False)
        if not wrote or self.left <= 0 or not self.when():
            return
        self.left -= 1
        self.failed += 1
        if self._admin_dsn is None:
            raise sa.OperationalError("COMMIT", None, ConnectionResetError("the connection was lost (test fault)"))
        # The real thing: the server process goes away, and COMMIT is sent on a dead connection.
        pid = conn.connection.dbapi_connection._connection.get_server_pid()  # type: ignore[union-attr]
        await_only(self._terminate(pid))

    async def _terminate(self, pid: int) -> None:
        assert self._admin_dsn is not None
        admin = await asyncpg.connect(self._admin_dsn)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
        finally:
            await admin.close()


def in_marked_request() -> bool:
    return context.request_id.get() == MARK


@contextlib.contextmanager
def commit_fails(engine: AsyncEngine, times: int = 1) -> Iterator[CommitFault]:
    """COMMITs of requests sent with `X-Request-ID: commit-fault` fail (see `marked`)."""
    fault = CommitFault(engine, in_marked_request, times)
    try:
        yield fault
    finally:
        fault.remove()


@contextlib.contextmanager
def marked(client: httpx.AsyncClient) -> Iterator[None]:
    """Requests sent by `client` meanwhile carry the fault's request id."""
    client.headers["X-Request-ID"] = MARK
    try:
        yield
    finally:
        del client.headers["X-Request-ID"]
