"""Operations over HTTP: /health, /ready (database and broker), /metrics moving with the work, request ids."""

from __future__ import annotations

import re

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping
from tests.integration.metrics_text import samples, value
from tests.integration.processes import free_port

AMENDMENTS = "orders_amendments_total"
WEBHOOKS = "orders_webhook_events_total"
SYNCS = "orders_courier_sync_total"
LATENCY = "orders_http_request_duration_seconds_count"
pytestmark = pytest.mark.anyio
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-", re.IGNORECASE)


async def metrics(api: Api) -> str:
    response = await api.request("GET", "/metrics", key=None)  # key-free, like a scraper
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_health_and_ready(api: Api, settings: Settings) -> None:
    assert (await api.request("GET", "/health", key=None)).json() == {"status": "ok"}
    ready = await api.request("GET", "/ready", key=None)
    assert ready.status_code == 200, ready.text
    expected = ["database", "broker"] if settings.relay == "celery" else ["database"]
    assert ready.json() == {"status": "ready", "checks": expected}


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_ready_is_503_naming_the_broker_when_it_is_down(settings: Settings) -> None:
    # Nothing listens on a port we just had free: the broker is down, the database is fine.
    down = msgspec.structs.replace(settings, relay="celery", broker_url=f"redis://127.0.0.1:{free_port()}/0")
    async with AsyncTestClient(app=create_app(down), timeout=30) as client:
        response = await client.get("/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/not-ready")
        assert [e["field"] for e in problem["errors"]] == ["broker"]
        assert "broker is down" in problem["detail"] and "database" not in problem["detail"]
        assert (await client.get("/health")).status_code == 200  # alive, only not ready


async def test_metrics_move_after_an_amendment_and_a_webhook(api: Api, settings: Settings) -> None:
    before = await metrics(api)
    order = await api.create_order()
    amended = await api.amend(order, {"op": "set_quantity", "line_id": order["lines"][0]["id"], "quantity": 2})
    assert amended.status_code == 200, amended.text
    stale = await api.amend(order, {"op": "set_quantity", "line_id": order["lines"][0]["id"], "quantity": 3})
    assert stale.status_code == 412
    shipping = Shipping(api)
    shipped = await shipping.ship(amended.json())
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "picked")
    after = await metrics(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(AMENDMENTS, actor_kind="staff", outcome="applied") == 1
    assert moved(AMENDMENTS, actor_kind="staff", outcome="version_mismatch") == 1
    assert moved(WEBHOOKS, courier="sandbox", outcome="applied") >= 1
    if settings.relay == "embedded":  # on the Celery engine the sync runs, and counts, in the worker process
        assert moved(SYNCS, courier="sandbox", outcome="synced") >= 1
    route = "/api/orders/{order_id}/amendments"
    assert moved(LATENCY, method="POST", route=route, status="200") == 1
    assert moved(LATENCY, method="POST", route=route, status="412") == 1
    # Latency is labelled by route template: no order id (nor any token) becomes a label value.
    assert not [labels for _, labels, _ in samples(after) if UUID.search(labels.get("route", ""))]
    assert value(after, "orders_outbox_readable") == 1


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_outbox_depth_and_age_come_from_the_database(settings: Settings, keys: dict[str, str]) -> None:
    # With no relay the new orders' outbox rows stay pending (same database, relay off): the gauges see them.
    idle = msgspec.structs.replace(settings, relay="off")
    app = create_app(idle)
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        empty = await metrics(api)
        assert value(empty, "orders_outbox_depth") == 0
        await api.create_order()
        await api.create_order()
        full = await metrics(api)
        assert value(full, "orders_outbox_depth") >= 2
        assert value(full, "orders_outbox_oldest_age_seconds") > 0


async def test_request_id_is_kept_or_made_and_always_echoed(api: Api) -> None:
    kept = await api.request("GET", "/health", key=None, headers={"X-Request-ID": "shop-42.a"})
    assert kept.headers["x-request-id"] == "shop-42.a"
    made = await api.request("GET", "/health", key=None, headers={"X-Request-ID": "no spaces <allowed>"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    refused = await api.request("GET", "/api/orders", key=None)  # a 401 raised by authentication
    assert refused.status_code == 401 and refused.headers["x-request-id"]
    missing = await api.request("GET", "/no/such/route", key=None)
    assert missing.status_code == 404 and missing.headers["x-request-id"]
