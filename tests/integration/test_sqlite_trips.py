"""Trips to aiosqlite's thread, counted: an amendment's BEGIN goes with its read, its writes with its COMMIT,
and what waits that way keeps a transaction's meaning (the write lock, read after write, commit, rollback,
errors). SQLite only: elsewhere nothing waits, which the amendment tests on PostgreSQL cover."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.db import sqlite_trips
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    yield from engine_settings(request, tmp_path)


class Trips:
    """Every function sent to an aiosqlite connection's thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(connection, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


async def test_an_amendment_is_two_trips_to_sqlites_thread(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN IMMEDIATE with the order's read, its writes with the COMMIT. Before: seven (BEGIN, the read and
    each write a trip of its own, then COMMIT)."""
    trips = Trips(monkeypatch)
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        line = order["lines"][0]["id"]
        trips.count = 0
        amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
        assert amended.status_code == 200, amended.text
        assert trips.count == 2
        now = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (now["version"], now["lines"][0]["quantity"], now["cod_amount"]) == (2, 2, 930000)


async def test_a_ship_is_two_trips_to_sqlites_thread(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an amendment: BEGIN IMMEDIATE with the order's read, its writes (the order, its event, its outbox row and
    the new parcel) with the COMMIT. Before: eight (the shop's settings and the schedule each read in a trip of its
    own, and the ORM's flush sending each write on its own)."""
    trips = Trips(monkeypatch)
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        path = f"/api/orders/{order['id']}"
        confirmed = await api.request("POST", f"{path}/confirm", headers={"If-Match": '"1"'})
        trips.count = 0
        shipped = await api.request("POST", f"{path}/ship", headers={"If-Match": confirmed.headers["etag"]})
        assert shipped.status_code == 200, shipped.text
        assert trips.count == 2
        now = (await api.request("GET", path)).json()
    assert now == shipped.json() and (now["status"], now["shipment"]["sync_state"]) == ("ready_to_ship", "pending")


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    yield engine
    await engine.dispose()


async def values(connection: AsyncConnection) -> list[tuple[int, str]]:
    return [tuple(r) for r in (await connection.execute(text("SELECT id, v FROM t ORDER BY id"))).all()]


def hold(connection: AsyncConnection, *statements: tuple[str, dict[str, Any]]) -> Any:
    def run(sync: Any) -> None:
        with sqlite_trips.held(sync):
            for sql, params in statements:
                sync.execute(text(sql), params)

    return connection.run_sync(run)


async def test_held_writes_are_read_back_in_their_transaction_and_committed(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:
        await connection.begin()
        trips = Trips(monkeypatch)
        await hold(connection, ("INSERT INTO t VALUES (1, 'a')", {}), ("UPDATE t SET v = 'b' WHERE id = 1", {}))
        assert trips.count == 0  # nothing sent yet
        assert await values(connection) == [(1, "b")]  # the read takes them first, in its own trip
        assert trips.count == 1
        await hold(connection, ("INSERT INTO t VALUES (2, 'c')", {}))
        await connection.commit()  # the COMMIT takes what is still held
    async with engine.connect() as connection:
        assert await values(connection) == [(1, "b"), (2, "c")]


async def test_held_writes_are_forgotten_by_a_rollback(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.begin()
        await hold(connection, ("INSERT INTO t VALUES (1, 'a')", {}))
        await connection.rollback()
        await connection.begin()
        assert await values(connection) == []
        await connection.commit()


async def test_a_held_write_that_fails_fails_the_next_statement_as_a_database_error(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.begin()
        await connection.execute(text("INSERT INTO t VALUES (1, 'a')"))
        await hold(connection, ("INSERT INTO t VALUES (1, 'again')", {}))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t VALUES (2, 'b')"))
        await connection.rollback()
    async with engine.connect() as connection:
        assert await values(connection) == []


async def test_a_held_write_that_fails_at_the_commit_fails_the_commit_and_keeps_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.begin()
        await connection.execute(text("INSERT INTO t VALUES (1, 'a')"))
        await hold(connection, ("INSERT INTO t VALUES (2, 'b')", {}), ("INSERT INTO t VALUES (1, 'again')", {}))
        with pytest.raises(IntegrityError):
            await connection.commit()
        await connection.rollback()
    async with engine.connect() as connection:
        assert await values(connection) == []


async def test_a_writer_takes_sqlites_lock_with_its_first_statement(engine: AsyncEngine) -> None:
    """BEGIN IMMEDIATE waits for the first statement and goes with it: from then on another writer is refused
    (SQLite: busy), as when it was sent alone; a transaction that runs nothing sends nothing."""
    first = await engine.connect()
    second = await engine.connect()
    try:
        await second.exec_driver_sql("PRAGMA busy_timeout=0")
        await second.commit()
        immediate = {"sqlite_begin": "IMMEDIATE"}
        await (await first.execution_options(**immediate)).begin()
        await first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE goes now: the write lock is first's
        await (await second.execution_options(**immediate)).begin()
        with pytest.raises(OperationalError, match="locked"):
            await second.execute(text("INSERT INTO t VALUES (9, 'z')"))
        await second.rollback()
        await first.execute(text("INSERT INTO t VALUES (1, 'a')"))
        await first.commit()
    finally:
        await first.close()
        await second.close()
    async with engine.connect() as connection:
        assert await values(connection) == [(1, "a")]


async def test_a_transaction_that_runs_nothing_makes_no_trip(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:
        trips = Trips(monkeypatch)
        await (await connection.execution_options(sqlite_begin="IMMEDIATE")).begin()
        await connection.commit()
        await connection.begin()
        await connection.rollback()
        assert trips.count == 0
