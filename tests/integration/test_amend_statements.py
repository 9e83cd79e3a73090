"""What one amendment asks of the database, counted (never timed): a bounded number of statements in one
transaction, no rollback, and the customer's message made by the relay from an outbox row of that commit
rather than in the request. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import aiosqlite
import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import String, cast, event, make_url, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.db.engine import begin_write, create_engine
from orders_service.db.models import OrderEvent, OutboxMessage
from orders_service.infra import clock
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.orders import loader, services
from orders_service.relay.core import Handler
from tests.integration.api import Api, eventually
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio

# BEGIN (IMMEDIATE on SQLite), the order with its lines, shipment, the customer's tier and whether the catalogue
# sells any of its SKUs (catalogue/stock.py: it does not here, so no lookup and no reservation to move), UPDATE
# orders, UPDATE order_lines, INSERT order_events, one INSERT for both outbox rows, COMMIT. Before: 17 to 24, then
# 8, then 7, 8 with the catalogue's own lookup, 7 again since it is read along. On PostgreSQL the writes are one
# statement (orders/store.py): 4, was 7. On SQLite they stay four statements, sent in one trip to its thread
# (test_sqlite_trips.py).
MAX_STATEMENTS = {"sqlite": 7, "postgresql": 4}


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
def open_hours() -> Iterator[None]:
    """10:00 in Vietnam: outside quiet hours, so the message is sent at once whatever the hour the test runs."""
    with clock.pinned(clock.next_local(datetime.time(10, 0), ZoneInfo("Asia/Ho_Chi_Minh"))):
        yield


class Statements:
    """Every statement, BEGIN, COMMIT and ROLLBACK an engine sends while `on` is set, and in `compiled` those it
    had to compile (not found in SQLAlchemy's cache; SAVEPOINTs aside)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.seen: list[str] = []
        self.compiled: list[str] = []
        self.on = False

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback"):
            event.listen(self.engine, name, getattr(self, f"_{name}"))
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback"):
            event.remove(self.engine, name, getattr(self, f"_{name}"))

    async def run(self, handler: Handler, row: OutboxMessage) -> tuple[str, list[str]]:
        """What `handler` says of `row`, and the statements it sent (counted only while it runs)."""
        self.seen = []
        self.on = True
        try:
            outcome = await handler(row)
        finally:
            self.on = False
        return outcome, self.seen

    def _statement(self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if not self.on:
            return
        text = " ".join(statement.split())
        self.seen.append(text)
        fresh = context is not None and context.compiled is not None and context.cache_hit is not CACHE_HIT
        if fresh and not text.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            self.compiled.append(f"{context.cache_hit}: {text[:120]}")

    def _begin(self, conn: Any) -> None:
        # SQLite's BEGIN IMMEDIATE is a statement of its own (db/engine.py); asyncpg's BEGIN is not.
        if self.on and conn.dialect.name != "sqlite":
            self.seen.append("BEGIN")

    def _commit(self, _conn: Any) -> None:
        if self.on:
            self.seen.append("COMMIT")

    def _rollback(self, _conn: Any) -> None:
        if self.on:
            self.seen.append("ROLLBACK")


async def test_an_amendment_is_one_short_transaction(settings: Settings, keys: dict[str, str]) -> None:
    # Without the relay, whose statements would otherwise mix with the request's.
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        line = order["lines"][0]["id"]
        with Statements(app.state.runtime.engine) as statements:
            await api.request("GET", f"/api/orders/{order['id']}")  # the API key is cached now: its lookup left out
            statements.on = True
            amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
            statements.on = False
    assert amended.status_code == 200, amended.text
    seen = statements.seen
    assert len(seen) <= MAX_STATEMENTS[app.state.runtime.engine.dialect.name], "\n".join(seen)
    assert seen[0].startswith("BEGIN") and seen[-1] == "COMMIT" and seen.count("COMMIT") == 1, "\n".join(seen)
    assert "ROLLBACK" not in seen and not [s for s in seen if "SAVEPOINT" in s], "\n".join(seen)
    # Neither the customer nor her message is read or written on the request's path.
    assert not [s for s in seen if "notifications" in s or "customers" in s], "\n".join(seen)
    assert amended.json()["lines"][0]["quantity"] == 2 and amended.headers["etag"] == '"2"'


async def test_an_amendment_leaves_the_unit_of_work_nothing_to_flush(settings: Settings, keys: dict[str, str]) -> None:
    """The amendment's writes are Core statements (orders/store.py), not the ORM's flush, and the loaded row is
    left as written: the answer, a later read and the stored events agree, for changed, added and removed lines."""
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    flushes: list[int] = []

    def flushed(session: Session, *_: Any) -> None:
        flushes.append(len(session.dirty) + len(session.new) + len(session.deleted))

    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        first = order["lines"][0]["id"]
        new_line = {"sku": "SHIRT-02", "name": "Áo sơ mi", "size": "L", "unit_price": 200000, "quantity": 2}
        event.listen(Session, "before_flush", flushed)
        try:
            added = await api.amend(
                order, {"op": "set_quantity", "line_id": first, "quantity": 3}, {"op": "add_line", "line": new_line}
            )
            assert added.status_code == 200, added.text
            removed = await api.amend(added.json(), {"op": "remove_line", "line_id": first})
            assert removed.status_code == 200, removed.text
        finally:
            event.remove(Session, "before_flush", flushed)
        assert flushes == []
        assert [(x["sku"], x["quantity"]) for x in added.json()["lines"]] == [("DRESS-01", 3), ("SHIRT-02", 2)]
        assert added.json()["total"] == 3 * 450000 + 2 * 200000 + 30000
        read = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        answer = removed.json()
        assert answer == read, (answer, read)
        assert [(x["sku"], x["quantity"]) for x in read["lines"]] == [("SHIRT-02", 2)] and read["version"] == 3
        events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
        assert [(e["seq"], e["type"], e["version"]) for e in events] == [
            (1, "created", 1),
            (2, "amended", 2),
            (3, "amended", 3),
        ]


async def test_the_amended_message_comes_through_the_outbox(settings: Settings, api: Api, open_hours: None) -> None:
    order = await api.create_order()  # a 450.000 ₫ dress and 30.000 ₫ shipping
    line = order["lines"][0]["id"]
    amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
    assert amended.status_code == 200, amended.text
    # The amendment's commit holds the outbox row the relay makes the message from.
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            rows = list(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.key == f"amended:{order['id']}:v2"))
            )
    finally:
        await engine.dispose()
    assert [(r.topic, r.payload["cod_before"], r.payload["cod_after"]) for r in rows] == [
        ("notifications.order_amended", 480000, 930000)
    ]
    assert rows[0].payload["changes"] == ["items"] and UUID(rows[0].payload["customer_id"]) == UUID(
        order["customer_id"]
    )

    async def sent() -> dict[str, Any] | None:
        response = await api.request("GET", "/api/notifications", params={"order_id": order["id"]})
        items = [m for m in response.json()["items"] if m["template"] == "order_amended"]
        return items[0] if items and items[0]["status"] == "sent" else None

    message = await eventually(sent)
    assert "930.000 ₫" in message["body"] and "480.000 ₫" in message["body"]
    assert message["to"] == order["recipient"]["phones"][0]
    # The relay running the row again (a lease lost mid-run) makes no second message: the key is the message's.
    from orders_service.messaging.triggers import make_amended_message

    engine = create_engine(settings, poolclass=NullPool)
    try:
        db = async_sessionmaker(engine, info=session_info(settings))
        again = await make_amended_message(db, rows[0].key, rows[0].payload)
    finally:
        await engine.dispose()
    assert again == "already queued"
    response = await api.request("GET", "/api/notifications", params={"order_id": order["id"]})
    assert [m["template"] for m in response.json()["items"]].count("order_amended") == 1


async def test_a_checkout_costs_no_round_trip_and_a_closed_connection_is_replaced(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pool_pre_ping made three round trips (BEGIN, ";", ROLLBACK) per checkout; a connection the server closed
    is now told apart without one, and replaced."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL's pool")
    pings: list[object] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(self)
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        line = order["lines"][0]["id"]
        amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
        assert amended.status_code == 200, amended.text
        assert pings == []
        # The server ends every pooled connection (a restart, a failover): the next requests still succeed.
        dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        killer = await asyncpg.connect(dsn)
        try:
            ended = await killer.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await killer.close()
        assert ended >= 1
        await asyncio.sleep(0.5)  # the app's loop reads the closed sockets
        again = await api.amend(amended.json(), {"op": "set_quantity", "line_id": line, "quantity": 3})
        assert again.status_code == 200, again.text
        assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 3


async def test_merged_from_asks_again_once_the_session_merged_into_the_order(settings: Settings, api: Api) -> None:
    """get_order learns that nothing was merged into the order, which spares the answer a query; a merge made
    in the same session afterwards must still show."""
    into, source = await api.create_order(), await api.create_order()
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, info=session_info(settings))() as session, session.begin():
            await begin_write(session)
            row = await services.get_order(session, UUID(into["id"]), lock=True)
            assert await loader.merged_from(session, [row.id]) == {row.id: []}
            merged = await services.get_order(session, UUID(source["id"]), lock=True)
            merged.merged_into_id = row.id
            await session.flush()
            assert await loader.merged_from(session, [row.id]) == {row.id: [merged.id]}
            await session.rollback()
    finally:
        await engine.dispose()


async def test_sqlite_rolls_back_only_an_open_transaction(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool's ROLLBACK on every connection it takes back cost a trip to aiosqlite's thread per request
    after the COMMIT had ended the transaction; a refused amendment still rolls its transaction back."""
    if not settings.is_sqlite:
        pytest.skip("SQLite's driver")
    rollbacks: list[bool] = []
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(self.in_transaction)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        line = order["lines"][0]["id"]
        await api.request("GET", f"/api/orders/{order['id']}")
        rollbacks.clear()
        amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
        assert amended.status_code == 200, amended.text
        assert rollbacks == []  # committed: nothing left to roll back
        stale = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 3})  # If-Match "1"
        assert stale.status_code == 412, stale.text
        assert rollbacks == [True]  # the refused amendment's open transaction, rolled back once
        now = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert now["version"] == 2 and now["lines"][0]["quantity"] == 2


async def test_json_columns_keep_vietnamese_letters_as_written(settings: Settings, keys: dict[str, str]) -> None:
    """JSON values are encoded by msgspec (db/engine.json_text), not `json.dumps`: SQLite's file holds "Áo sơ mi"
    as the letters an engineer reads with the sqlite3 shell, not as `\\u00c1o s\\u01a1 mi`, and every JSON column
    reads back as it was written, on both databases."""
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()
        new_line = {"sku": "SHIRT-02", "name": "Áo sơ mi", "size": "L", "unit_price": 200000, "quantity": 2}
        added = await api.amend(order, {"op": "add_line", "line": new_line})
        assert added.status_code == 200, added.text
        events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    operations = cast(OrderEvent.__table__.c.operations, String)  # the stored text, on either database
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            stored = await connection.scalar(
                select(operations).where(OrderEvent.order_id == UUID(order["id"]), OrderEvent.seq == 2)
            )
    finally:
        await engine.dispose()
    assert events[1]["operations"][0]["line"]["name"] == "Áo sơ mi"
    assert "Áo sơ mi" in stored, stored
