"""What one courier create asks of the database, counted (never timed): the sync's two short write transactions
(take the shipment, record what the courier holds) read each row they need once. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import cache_key

from orders_service.app import create_app
from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.relay.core import handle
from orders_service.relay.handlers import build_handlers
from orders_service.relay.store import BACKOFF_BASE_S, claim, settle
from orders_service.shipping.sync import sync_order_shipment
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_amend_statements import Statements

pytestmark = pytest.mark.anyio

# Read: BEGIN, is there a shipment, ROLLBACK. Take: BEGIN, UPDATE the lease, the order with its lines, shipment
# and the courier's ids for its ward, UPDATE the shipment, COMMIT. Record: BEGIN, the order locked, the shipment,
# UPDATE the order, INSERT the event, UPDATE the shipment, COMMIT. Before: 23 (the shipment read three times and
# the lines once more in the take, the shipment twice more when recording), then 16 (the ward's ids apart).
MAX_STATEMENTS = 15
# The relay's message for a ship says the order has a shipment: no read-only look first (BEGIN, SELECT, ROLLBACK).
MAX_STATEMENTS_SHIPPED = 12


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def _shipped_order(api: Api) -> dict[str, Any]:
    order = await api.create_order()
    confirmed = await api.request(
        "POST", f"/api/orders/{order['id']}/confirm", headers={"If-Match": f'"{order["version"]}"'}
    )
    assert confirmed.status_code == 200, confirmed.text
    shipped = await api.request(
        "POST", f"/api/orders/{order['id']}/ship", headers={"If-Match": confirmed.headers["etag"]}
    )
    assert shipped.status_code == 200, shipped.text
    return order


async def test_a_courier_create_reads_each_row_once(settings: Settings, keys: dict[str, str]) -> None:
    app = create_app(msgspec.structs.replace(settings, relay="off"))  # the sync is called here, not by the relay
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await _shipped_order(api)
        # An engine of this loop (the app's runs in the test client's thread), counted like the app's.
        engine = create_engine(settings, poolclass=NullPool)
        db = async_sessionmaker(engine, info=session_info(settings))
        couriers = app.state.runtime.couriers
        try:
            with Statements(engine) as seen_by:
                seen_by.on = True
                outcome = await sync_order_shipment(db, couriers, UUID(order["id"]))
                seen_by.on = False
            again = await sync_order_shipment(db, couriers, UUID(order["id"]))
        finally:
            await engine.dispose()
        assert outcome == "synced" and again == "up to date"
        # The shop's settings are read once per process (cached), here because the engine is new: left out.
        seen = [s for s in seen_by.seen if "shop_settings" not in s]
        assert len(seen) <= MAX_STATEMENTS, "\n".join(seen)
        # The order's lines (and its parcel row) are read once, by the take: recording needs the order's columns.
        assert sum("order_lines" in s for s in seen) == 1, "\n".join(seen)
        # Recording reads the shipment by its key, not through the order's relationship loader (order_id IN ...).
        assert not [s for s in seen if s.startswith("SELECT shipments.") and "order_id IN" in s], "\n".join(seen)
        # The read-only look for a shipment ends in a ROLLBACK (nothing written); the two writes commit.
        assert seen.count("COMMIT") == 2 and seen.count("ROLLBACK") <= 1, "\n".join(seen)
        view = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        assert view["shipment"]["tracking_code"] and view["shipment"]["sync_state"] == "synced", view["shipment"]


async def test_the_ship_message_goes_straight_to_the_lease(settings: Settings, keys: dict[str, str]) -> None:
    """The relay's handler for `order.shipped` knows the order has a shipment (they are never deleted): no look
    for one first, so no read-only transaction before the lease; nor for the later messages of an order it has
    seen with one. Other topics of other orders still look."""
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await _shipped_order(api)
        engine = create_engine(settings, poolclass=NullPool)
        db = async_sessionmaker(engine, info=session_info(settings))
        handle = build_handlers(db, app.state.runtime.couriers)["order."]
        try:
            with Statements(engine) as seen_by:
                seen_by.on = True
                outcome = await handle(OutboxMessage(topic="order.shipped", key=order["id"], payload={}))
                seen_by.on = False
                shipped_seen = [s for s in seen_by.seen if "shop_settings" not in s]
                seen_by.seen.clear()
                seen_by.on = True
                again = await handle(OutboxMessage(topic="order.amended", key=order["id"], payload={}))
                seen_by.on = False
                amended_seen = list(seen_by.seen)
                # A relay that has not seen the order with its shipment yet (another process, a restart) looks.
                seen_by.seen.clear()
                fresh = build_handlers(db, app.state.runtime.couriers)["order."]
                seen_by.on = True
                first = await fresh(OutboxMessage(topic="order.amended", key=order["id"], payload={}))
                second = await fresh(OutboxMessage(topic="order.amended", key=order["id"], payload={}))
                seen_by.on = False
        finally:
            await engine.dispose()
        assert outcome == "synced" and again == first == second == "up to date"
        assert len(shipped_seen) <= MAX_STATEMENTS_SHIPPED, "\n".join(shipped_seen)
        assert shipped_seen.count("ROLLBACK") == 0 and shipped_seen.count("COMMIT") == 2, "\n".join(shipped_seen)
        # The handler has seen this order with a shipment: the amendment's sync does not look for one either.
        assert amended_seen.count("ROLLBACK") == 0, "\n".join(amended_seen)
        # Another topic of an order it has not seen looks once (a read-only transaction ending in a ROLLBACK).
        assert seen_by.seen.count("ROLLBACK") == 1, "\n".join(seen_by.seen)


async def test_a_relay_pass_builds_no_statement_twice(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim, the courier create's two transactions and the settle run statements built once (the values are
    parameters): SQLAlchemy walks a statement's structure for its cache key once per statement object, and one
    built per call was walked on every message (7.6% of the relay's CPU). Only SQLAlchemy's own primary-key load
    (`session.get`) still builds its statement per call."""
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        engine = create_engine(settings, poolclass=NullPool)
        db = async_sessionmaker(engine, info=session_info(settings))
        handlers = build_handlers(db, app.state.runtime.couriers)
        built: list[str] = []
        generate = cache_key.HasCacheKey._generate_cache_key

        def counted(statement: Any) -> Any:
            built.append(" ".join(str(statement).split()))
            return generate(statement)

        async def one_pass() -> list[str]:
            messages = await claim(db, 50)
            outcomes = [await handle(message, handlers) for message in messages]
            await settle(db, outcomes, BACKOFF_BASE_S)
            return [m.topic for m in messages]

        try:
            await _shipped_order(api)
            assert "order.shipped" in await one_pass()  # the first of each statement builds its key
            await _shipped_order(api)
            monkeypatch.setattr(cache_key.HasCacheKey, "_generate_cache_key", counted)
            topics = await one_pass()
            monkeypatch.undo()
        finally:
            await engine.dispose()
        assert "order.shipped" in topics, topics
        view = (await api.request("GET", "/api/orders", params={"limit": 5})).json()["items"]
        assert {o["shipment"]["sync_state"] for o in view} == {"synced"}, view
    assert [s for s in built if not s.endswith("WHERE shipments.id = :pk_1")] == [], "\n".join(built)
