"""The sandbox courier's driver and parcel views are not open: a staff or admin API key (or the sandbox's own
token) is needed, and `ORDERS_SANDBOX=off` removes the sandbox altogether (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from couriers.sandbox import standalone_app
from orders_service.app import create_app
from orders_service.auth.services import KEY_PREFIX
from orders_service.infra.runtime import standalone_sandbox
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping, order_payload
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_without_a_key_the_driver_can_neither_look_nor_deliver(api: Api) -> None:
    shipping = Shipping(api)
    order = await shipping.ship(await api.create_order())
    code = order["shipment"]["tracking_code"]
    parcel = f"/sandbox-courier/shipments/{code}"
    before = await shipping.parcel(code)
    wrong = KEY_PREFIX + secrets.token_urlsafe(32)
    for headers in ({}, {"Authorization": f"Bearer {wrong}"}, {"Authorization": "Bearer"}, {"X-API-Key": wrong}):
        looked = await api.client.get(parcel, headers=headers)
        assert looked.status_code == 401, looked.text
        assert before["phones"][0] not in looked.text and before["address"]["line"] not in looked.text
        delivered = await api.client.post(
            f"{parcel}/events", json={"status": "delivered", "cod_collected": 0}, headers=headers
        )
        assert delivered.status_code == 401 and delivered.headers["content-type"].startswith("application/problem")
    assert await shipping.order(order["id"]) == order  # the order is exactly as it was
    after = await shipping.parcel(code)
    assert (after["status"], after["history"], after["webhooks"]) == (before["status"], before["history"], [])


async def test_a_staff_or_admin_key_or_the_sandbox_token_drives_it(api: Api, settings: Settings) -> None:
    shipping = Shipping(api)
    order = await shipping.ship(await api.create_order())
    code = order["shipment"]["tracking_code"]
    parcel = f"/sandbox-courier/shipments/{code}"
    token = api.sandbox.config.token
    for key in (api.staff_key, api.admin_key, token):
        seen = await api.client.get(parcel, headers={"Authorization": f"Bearer {key}"})
        assert seen.status_code == 200 and seen.json()["tracking_code"] == code
    picked = await api.client.post(f"{parcel}/events", json={"status": "picked"}, headers=api.headers("admin"))
    assert picked.status_code == 200 and picked.json()["delivered"], picked.text
    assert (await shipping.synced(order["id"]))["status"] == "in_transit"
    # The courier API the service itself calls takes the sandbox's token only, not a staff key.
    quoted = await api.client.post("/sandbox-courier/quote", json={"origin_province": 79, "province_code": 1})
    assert quoted.status_code == 401
    quoted = await api.client.post(
        "/sandbox-courier/quote", json={"origin_province": 79, "province_code": 1}, headers=api.headers()
    )
    assert quoted.status_code == 401


async def test_orders_sandbox_off_mounts_nothing_and_ships_with_no_sandbox(settings: Settings, api: Api) -> None:
    off = create_app(msgspec.structs.replace(settings, sandbox=False))
    assert off.state.runtime.sandbox is None and "sandbox" not in off.state.couriers.names()
    assert not [r.path for r in off.routes if r.path.startswith("/sandbox-courier")]
    async with AsyncTestClient(app=off, timeout=30) as http:
        for method, path in (("GET", "/sandbox-courier/shipments/SBX000000001"), ("GET", "/sandbox-courier/schema")):
            assert (await http.request(method, path, headers=api.headers())).status_code == 404
        driven = await http.post(
            "/sandbox-courier/shipments/SBX000000001/events", json={"status": "delivered"}, headers=api.headers()
        )
        assert driven.status_code == 404
        order = (await http.post("/api/orders", json=order_payload(), headers=api.headers())).json()
        path = f"/api/orders/{order['id']}"
        confirmed = (await http.post(f"{path}/confirm", headers=api.headers(**{"If-Match": '"1"'}))).json()
        shipped = await http.post(f"{path}/ship", headers=api.headers(**{"If-Match": f'"{confirmed["version"]}"'}))
        assert shipped.status_code == 409 and "sandbox" in shipped.json()["detail"], shipped.text
        assert (await http.get(path, headers=api.headers())).json()["status"] == "confirmed"


async def test_the_standalone_sandbox_checks_keys_in_the_service_database(
    settings: Settings, keys: dict[str, str]
) -> None:
    """`orders-service sandbox-courier`, shared by API processes at scale, reads the same API keys."""
    server = standalone_sandbox(settings)
    async with AsyncTestClient(app=standalone_app(server), timeout=30) as http:
        parcel = "/sandbox-courier/shipments/SBX000000001"
        for headers in ({}, {"Authorization": f"Bearer {KEY_PREFIX}{secrets.token_urlsafe(32)}"}):
            assert (await http.get(parcel, headers=headers)).status_code == 401
            assert (await http.post(f"{parcel}/events", json={"status": "picked"}, headers=headers)).status_code == 401
        for key in (keys["staff"], keys["admin"], server.config.token):
            assert (await http.get(parcel, headers={"Authorization": f"Bearer {key}"})).status_code == 404  # no parcel
        quoted = await http.post(
            "/sandbox-courier/quote",
            json={"origin_province": 79, "province_code": 1},
            headers={"Authorization": f"Bearer {keys['staff']}"},
        )
        assert quoted.status_code == 401


async def test_the_sandbox_docs_load_nothing_from_another_host(api: Api) -> None:
    # Litestar's HTML renderers (Redoc, Swagger, Elements, RapiDoc) fetch their scripts from a CDN: blank offline.
    spec = await api.client.get("/sandbox-courier/schema/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "sandbox courier"
    for page in ("/schema", "/schema/redoc", "/schema/swagger", "/schema/elements", "/schema/rapidoc"):
        answer = await api.client.get(f"/sandbox-courier{page}")
        assert "https://" not in answer.text or answer.headers["content-type"].startswith("application/json"), page
