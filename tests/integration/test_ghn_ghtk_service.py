"""GHN and GHTK end to end: the service's HTTP API, its relay and webhooks, with the adapters wired to the fakes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from couriers.ghn import GhnConfig, GhnCourier
from couriers.ghtk import GhtkConfig, GhtkCourier
from fakes.ghn.server import FakeGhn
from fakes.ghtk.server import FakeGhtk
from orders_service.app import create_app
from orders_service.geo import resolve_units
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import shop_from
from tests.integration.api import HANOI, HOAN_KIEM, Api, Shipping, eventually, order_payload, random_mobile
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio

GHN_BASE = "http://ghn.test/shiip/public-api"
GHTK_BASE = "http://ghtk.test"
GHN_SHOP_ID = 885_001
SECRET = "hook-secret-4f1c"
GHN_HOOK = f"/webhooks/couriers/ghn?token={SECRET}"
GHTK_HOOK = f"/webhooks/couriers/ghtk?hash={SECRET}"
TRYON_SHIRT = {
    "sku": "SHIRT-02",
    "name": "Sơ mi",
    "quantity": 1,
    "tryon_options": [
        {"size": "M", "color": "white", "unit_price": 350000},
        {"size": "L", "color": "blue", "unit_price": 380000},
    ],
}
COD = 450000 + 380000 + 30000  # the dress, the dearest shirt option, shipping
MOVED = 30_000 - 16_500  # what the GHN fake charges more to Hà Nội than within the city: re-quoted on a move
HANOI_ADDRESS = {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI}
GHN_HOAN_KIEM = {"district_id": 1489, "ward_code": "1A0807"}  # GHN's own ids for the ward, in the address map


REFUSAL = {"success": False, "message": "Địa chỉ giao hàng tạm ngưng phục vụ", "error_code": "30199"}


class Gate(httpx.AsyncBaseTransport):
    """The way to GHTK, where a test can make creates slow (held back), failing (no connection) or refused
    (GHTK answers 422, as for an address it stopped serving; `refused` counts those answers)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.creates, self.refused = inner, "pass", 0  # pass | slow | failing | refusing

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        while self.creates != "pass" and request.url.path.startswith("/services/shipment/order"):
            if self.creates == "failing":
                raise httpx.ConnectError("connection refused", request=request)
            if self.creates == "refusing":
                self.refused += 1
                return httpx.Response(422, json=REFUSAL, request=request)
            await anyio.sleep(0.01)
        return await self.inner.handle_async_request(request)


# The adapters here talk to in-process fakes through test transports (a gate that holds or drops creates), which
# a worker process cannot reach: these run on the embedded engine, over SQLite and PostgreSQL. The Celery engine
# runs the same handlers for the sandbox courier in the rest of the suite.
@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@dataclass
class World:
    api: Api
    shipping: Shipping
    ghn: FakeGhn
    ghtk: FakeGhtk
    gate: Gate


@pytest.fixture
async def world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    async with fake_couriers(settings, keys) as made:
        yield made


@contextlib.asynccontextmanager
async def fake_couriers(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    """The service with its GHN and GHTK adapters wired to the fakes (other test modules use it too)."""
    ghn, ghtk = FakeGhn(shop_id=GHN_SHOP_ID), FakeGhtk()
    shop = shop_from(settings)
    ghn_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ghn.app), base_url=GHN_BASE)  # type: ignore[arg-type]
    gate = Gate(ghtk.transport())
    ghtk_client = httpx.AsyncClient(transport=gate, base_url=GHTK_BASE)
    ghn_config = GhnConfig(
        token=ghn.token, shop_id=GHN_SHOP_ID, shop=shop, webhook_secret=SECRET, base_url=GHN_BASE, timeout_s=5
    )
    ghtk_config = GhtkConfig(
        token=ghtk.token,
        partner_code=ghtk.partner_code,
        # The fake GHTK takes 10-digit numbers only, and the default shop phone is an 11-digit landline.
        shop=msgspec.structs.replace(shop, phone="+84901112233"),
        webhook_secret=SECRET,
        base_url=GHTK_BASE,
        timeout_s=5,
    )
    couriers = [GhnCourier(ghn_config, client=ghn_client), GhtkCourier(ghtk_config, ghtk_client)]
    try:
        async with AsyncTestClient(app=create_app(settings, couriers=couriers), timeout=30) as client:
            api = Api(client, keys["staff"], keys["admin"], client.app)
            yield World(api, Shipping(api), ghn, ghtk, gate)
    finally:
        await ghn_client.aclose()
        await ghtk_client.aclose()


def local(e164: str) -> str:
    return "0" + e164[3:]


async def tryon_order(api: Api, courier: str) -> dict[str, Any]:
    order = await api.create_order(courier=courier, lines=[*order_payload()["lines"], TRYON_SHIRT])
    assert order["cod_amount"] == COD
    return order


async def events_of(api: Api, order: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.request("GET", f"/api/orders/{order['id']}/events")
    assert response.status_code == 200, response.text
    return list(response.json())


async def ghn_webhooks(world: World) -> list[dict[str, Any]]:
    deliveries = await world.ghn.deliver_webhooks(world.api.client, GHN_HOOK, attempts=1, interval_s=0)
    assert all(d.delivered for d in deliveries), deliveries
    return [d.payload for d in deliveries]


async def ghtk_webhooks(world: World) -> None:
    undelivered = await world.ghtk.deliver_webhooks(world.api.client, GHTK_HOOK, attempts=1, interval_s=0)
    assert undelivered == []


def refused(response: httpx.Response, *words: str) -> str:
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("/not-amendable"), response.text
    detail = str(response.json()["detail"])
    assert all(word in detail for word in words), detail
    return detail


async def test_ghn_journey_from_ship_to_delivered(world: World) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await tryon_order(api, "ghn")
    shipped = await shipping.ship(order)
    tracking = shipped["shipment"]["tracking_code"]
    stored = ghn.orders[tracking]
    assert stored.client_order_code == order["code"]
    first_phone = order["recipient"]["phones"][0]
    units = resolve_units(order["recipient"]["address"]["province_code"], order["recipient"]["address"]["ward_code"])
    assert {k: stored.fields[k] for k in ("to_name", "to_phone", "to_address", "to_province_name")} == {
        "to_name": order["recipient"]["name"],
        "to_phone": local(first_phone),
        "to_address": "12 Lê Lợi",
        "to_province_name": units.province_name,
    }
    assert (stored.fields["cod_amount"], stored.fields["required_note"]) == (COD, "CHOTHUHANG")
    assert len(stored.fields["items"]) == 3  # the dress and both shirt options go to the door
    assert (shipped["shipment"]["status"], shipped["shipment"]["fee"]) == ("created", stored.total_fee)

    # Before pickup: the recipient, phones and address move to GHN through shipping-order/update, the address in
    # the district and ward ids GHN documents for it (from the address map).
    mapped = await api.request(
        "PUT", f"/api/couriers/ghn/addresses/{HOAN_KIEM}", key="admin", json={"ids": GHN_HOAN_KIEM}
    )
    assert mapped.status_code == 200, mapped.text
    friend = random_mobile()
    moved = await api.amend(
        shipped,
        {"op": "set_recipient", "name": "Phạm Hoa", "phones": [friend, first_phone]},
        {"op": "set_address", "address": HANOI_ADDRESS},
    )
    assert moved.status_code == 200, moved.text
    synced = await shipping.synced(order["id"])
    assert [path for path, _, _ in ghn.calls].count("/v2/shipping-order/update") == 2  # recipient, then address
    assert stored.fields["to_name"] == "Phạm Hoa"
    assert stored.fields["to_phone"] == local(synced["recipient"]["phones"][0]) == friend
    assert local(first_phone) in stored.fields["note"]  # GHN takes one phone: the other goes in the note
    assert stored.fields["to_address"] == "5 Hàng Bài"
    assert (stored.fields["to_district_id"], stored.fields["to_ward_code"]) == (1489, "1A0807")
    assert synced["shipment"]["tracking_code"] == tracking and len(ghn.orders) == 1

    paid = await api.amend(synced, {"op": "add_payment", "amount": 100000})
    assert paid.status_code == 200, paid.text
    synced = await shipping.synced(order["id"])
    last = ghn.calls[-1]
    assert last[0] == "/v2/shipping-order/updateCOD" and last[2]["cod_amount"] == COD + MOVED - 100000
    assert stored.fields["cod_amount"] == synced["shipment"]["cod_amount"] == COD + MOVED - 100000

    delivered: list[dict[str, Any]] = []
    ghn.set_status(tracking, "picked")
    delivered += await ghn_webhooks(world)
    picked = await shipping.synced(order["id"])
    assert (picked["status"], picked["shipment"]["status"]) == ("in_transit", "picked")
    moved_by = next(e for e in reversed(await events_of(api, order)) if e["type"] == "courier_picked")
    assert moved_by["actor"] == {"kind": "courier", "id": "ghn"}
    line_id = picked["lines"][0]["id"]
    refused(await api.amend(picked, {"op": "set_quantity", "line_id": line_id, "quantity": 2}), "items")

    ghn.set_status(tracking, "delivering")
    delivered += await ghn_webhooks(world)
    out = await shipping.synced(order["id"])
    assert (out["status"], out["shipment"]["status"]) == ("in_transit", "out_for_delivery")
    refused(await api.amend(out, {"op": "add_payment", "amount": 50000}), "cod", "GHN")
    # Two: the move's re-quoted fee, then the payment; not the refused one.
    assert [path for path, _, _ in ghn.calls].count("/v2/shipping-order/updateCOD") == 2

    ghn.set_status(tracking, "delivered")
    delivered += await ghn_webhooks(world)
    final = await shipping.synced(order["id"])
    assert (final["status"], final["shipment"]["status"]) == ("delivered", "delivered")
    assert (final["total"], final["paid"], final["cod_amount"]) == (COD + MOVED, 100000, COD + MOVED - 100000)
    assert final["shipment"]["cod_amount"] == COD + MOVED - 100000
    refused(await api.amend(final, {"op": "add_payment", "amount": 1000}), "delivered")

    # GHN retries webhooks: a replay of every one changes nothing.
    history = await events_of(api, order)
    for payload in delivered:
        replay = await api.client.post(GHN_HOOK, json=payload)
        assert replay.status_code == 200 and replay.json() == {"duplicate": 1}, replay.text
    assert len(await events_of(api, order)) == len(history)
    assert (await shipping.order(order["id"]))["version"] == final["version"]

    forged = await api.client.post("/webhooks/couriers/ghn?token=wrong", json={**delivered[-1], "Status": "returned"})
    assert forged.status_code == 401
    assert (await shipping.order(order["id"]))["version"] == final["version"]


async def test_ghtk_recreates_before_pickup_and_refuses_after(world: World) -> None:
    api, shipping, ghtk = world.api, world.shipping, world.ghtk
    order = await tryon_order(api, "ghtk")
    shipped = await shipping.ship(order)
    first = shipped["shipment"]["tracking_code"]
    stored = ghtk.order(first)
    assert (stored.partner_id, stored.order["tags"], stored.pick_money) == (order["code"], [17], COD)
    assert stored.order["tel"] == local(order["recipient"]["phones"][0])

    # GHTK has no amend API: before pickup a change cancels the order and creates the next one.
    moved = await api.amend(shipped, {"op": "set_recipient", "name": "Chị Hoa"})
    assert moved.status_code == 200, moved.text
    synced = await shipping.synced(order["id"])
    second = synced["shipment"]["tracking_code"]
    assert second != first and ghtk.orders[first].status_id == -1
    recreated = ghtk.order(second)
    assert (recreated.partner_id, recreated.order["name"], recreated.status_id) == (f"{order['code']}-2", "Chị Hoa", 2)
    assert recreated.order["tags"] == [17] and recreated.pick_money == COD
    mine = [o for o in ghtk.orders.values() if o.partner_id.split("-")[0] == order["code"]]
    assert [o.label for o in mine if o.status_id != -1] == [second]

    ghtk.set_status(second, 3)
    await ghtk_webhooks(world)  # the first order's cancellation (not ours any more), then the pickup
    picked = await shipping.synced(order["id"])
    assert (picked["status"], picked["shipment"]["status"]) == ("in_transit", "picked")
    moved_by = next(e for e in reversed(await events_of(api, order)) if e["type"] == "courier_picked")
    assert moved_by["actor"] == {"kind": "courier", "id": "ghtk"}
    for operation in (
        {"op": "set_recipient", "name": "Chị Lan"},
        {"op": "set_recipient", "phones": [random_mobile()]},
        {"op": "set_address", "address": HANOI_ADDRESS},
        {"op": "add_payment", "amount": 100000},
    ):
        refused(await api.amend(picked, operation), "GHTK")
    assert len(ghtk.orders) == 2 and (await shipping.order(order["id"]))["version"] == picked["version"]

    ghtk.set_status(second, 5)
    await ghtk_webhooks(world)
    final = await shipping.synced(order["id"])
    assert (final["status"], final["shipment"]["status"], final["shipment"]["cod_amount"]) == (
        "delivered",
        "delivered",
        COD,
    )
    ghtk.set_status(second, 6)
    forged = ghtk.pending_webhooks.pop()
    response = await api.client.post("/webhooks/couriers/ghtk?hash=wrong", data=forged)
    assert response.status_code == 401
    assert (await shipping.order(order["id"]))["version"] == final["version"]


async def test_a_ghn_refusal_ends_in_sync_failed_and_a_later_change_retries(world: World) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await api.create_order(courier="ghn"))
    tracking = order["shipment"]["tracking_code"]
    ghn.orders[tracking].status = "delivering"  # GHN moved on; its webhook has not reached us
    moved = await api.amend(order, {"op": "set_recipient", "name": "Chị Hoa"})
    assert moved.status_code == 200, moved.text

    async def failed() -> dict[str, Any] | None:
        current = await shipping.order(order["id"])
        return current if current["shipment"]["sync_state"] == "sync_failed" else None

    current = await eventually(failed)
    assert "Trạng thái đơn hàng không hợp lệ" in current["shipment"]["last_error"]
    assert "delivering" in current["shipment"]["last_error"]
    last = (await events_of(api, order))[-1]
    assert (last["type"], last["actor"]["kind"]) == ("sync_failed", "system")
    assert ghn.orders[tracking].fields["to_name"] != "Chị Hoa"

    ghn.orders[tracking].status = "picked"  # GHN takes changes again
    retried = await api.amend(current, {"op": "set_recipient", "name": "Chị Hoa Nguyễn"})
    assert retried.status_code == 200, retried.text
    final = await shipping.synced(order["id"])
    assert (final["shipment"]["sync_state"], final["shipment"]["last_error"]) == ("synced", None)
    assert ghn.orders[tracking].fields["to_name"] == "Chị Hoa Nguyễn"


async def test_ghn_a_tryon_line_added_before_pickup_asks_ghn_for_chothuhang(world: World) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await api.create_order(courier="ghn"))
    stored = ghn.orders[order["shipment"]["tracking_code"]]
    assert stored.fields["required_note"] == "KHONGCHOXEMHANG"
    added = await api.amend(order, {"op": "add_line", "line": TRYON_SHIRT})
    assert added.status_code == 200, added.text
    await shipping.synced(order["id"])
    assert len(stored.fields["items"]) == 3  # the items did reach GHN
    assert stored.fields["required_note"] == "CHOTHUHANG"


async def test_ghn_a_payer_change_before_pickup_reaches_ghn(world: World) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await api.create_order(courier="ghn"))
    stored = ghn.orders[order["shipment"]["tracking_code"]]
    # The customer pays the fee through our COD: GHN bills its own fee to the shop and collects our COD only.
    assert (stored.fields["payment_type_id"], stored.buyer_pays) == (1, order["cod_amount"]) == (1, 480000)
    changed = await api.amend(order, {"op": "set_shipping", "payer": "shop"})
    assert changed.status_code == 200, changed.text
    synced = await shipping.synced(order["id"])
    assert stored.fields["cod_amount"] == synced["cod_amount"] == stored.buyer_pays == 450000  # reached GHN
    assert stored.fields["payment_type_id"] == 1


@pytest.mark.parametrize("create", ["slow", "failing"])
async def test_ghtk_the_old_orders_cancel_webhook_during_a_recreate(world: World, create: str) -> None:
    api, shipping, ghtk = world.api, world.shipping, world.ghtk
    order = await shipping.ship(await api.create_order(courier="ghtk"))
    first = order["shipment"]["tracking_code"]
    world.gate.creates = create
    moved = await api.amend(order, {"op": "set_recipient", "name": "Chị Hoa"})
    assert moved.status_code == 200, moved.text

    async def cancelled() -> bool:
        return ghtk.orders[first].status_id == -1

    await eventually(cancelled)
    await ghtk_webhooks(world)  # GHTK reports the cancellation at once, before the new create succeeds
    world.gate.creates = "pass"

    async def settled() -> dict[str, Any] | None:
        current = await shipping.order(order["id"])
        shipment = current["shipment"]
        done = shipment["sync_state"] == "sync_failed" or shipment["synced_version"] == current["version"]
        return current if done else None

    current = await eventually(settled)
    assert current["shipment"]["sync_state"] == "synced", current["shipment"]
    second = current["shipment"]["tracking_code"]
    assert second != first and ghtk.order(second).partner_id == f"{order['code']}-2"
    ghtk.set_status(second, 3)
    await ghtk_webhooks(world)
    picked = await shipping.order(order["id"])
    assert (picked["status"], picked["shipment"]["status"]) == ("in_transit", "picked")
