"""Courier choice through HTTP (CONTRACT.md "Courier choice"): the couriers and what each accepts, an order's
quotes from all of them at once (a failing or silent courier listed unavailable), and the ship that takes staff's
courier or lets the shop's rule pick. GHN and GHTK are the fakes, on SQLite and PostgreSQL."""

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
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import shop_from
from tests.integration.api import Api, order_payload
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in

pytestmark = pytest.mark.anyio

GHN_BASE, GHTK_BASE, GHN_SHOP_ID = "http://ghn.test/shiip/public-api", "http://ghtk.test", 885_001
QUOTE_BOUND_S = 0.5  # ORDERS_QUOTE_TIMEOUT_S here: a held courier is given up after it


class Hold(httpx.AsyncBaseTransport):
    """The way to a courier, which a test can hold shut: its calls wait until released (a courier that hangs)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self._open: anyio.Event | None = None

    def hold(self) -> None:
        self._open = anyio.Event()

    def release(self) -> None:
        if self._open is not None:
            self._open.set()
            self._open = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._open is not None:
            await self._open.wait()
        return await self.inner.handle_async_request(request)


@dataclass
class World:
    api: Api
    ghn: FakeGhn
    ghtk: FakeGhtk
    ghtk_way: Hold
    settings: Settings


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for made in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(made, quote_timeout_s=QUOTE_BOUND_S)


@contextlib.asynccontextmanager
async def couriers_world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    ghn, ghtk = FakeGhn(shop_id=GHN_SHOP_ID), FakeGhtk()
    shop = shop_from(settings)
    ghn_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ghn.app), base_url=GHN_BASE)  # type: ignore[arg-type]
    way = Hold(ghtk.transport())
    ghtk_client = httpx.AsyncClient(transport=way, base_url=GHTK_BASE)
    couriers = [
        GhnCourier(
            GhnConfig(token=ghn.token, shop_id=GHN_SHOP_ID, shop=shop, webhook_secret="s", base_url=GHN_BASE),
            ghn_client,
        ),
        GhtkCourier(
            GhtkConfig(
                token=ghtk.token,
                partner_code=ghtk.partner_code,
                shop=msgspec.structs.replace(shop, phone="+84901112233"),  # the fake takes 10-digit numbers
                webhook_secret="s",
                base_url=GHTK_BASE,
            ),
            ghtk_client,
        ),
    ]
    try:
        async with AsyncTestClient(app=create_app(settings, couriers=couriers), timeout=30) as client:
            yield World(Api(client, keys["staff"], keys["admin"], client.app), ghn, ghtk, way, settings)
    finally:
        way.release()
        await ghn_client.aclose()
        await ghtk_client.aclose()


@pytest.fixture
async def world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    async with couriers_world(settings, keys) as made:
        yield made


async def confirmed(api: Api, courier: str = "ghtk") -> dict[str, Any]:
    order = await api.create_order(**{k: v for k, v in order_payload(courier=courier).items()})
    answer = await api.request(
        "POST", f"/api/orders/{order['id']}/confirm", headers={"If-Match": f'"{order["version"]}"'}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def ship(api: Api, order: dict[str, Any], body: Any = None) -> httpx.Response:
    headers = {"If-Match": f'"{order["version"]}"'}
    if body is None:
        return await api.request("POST", f"/api/orders/{order['id']}/ship", headers=headers)
    return await api.request("POST", f"/api/orders/{order['id']}/ship", headers=headers, json=body)


async def test_couriers_lists_each_configured_courier_with_what_it_accepts(world: World) -> None:
    answer = await world.api.request("GET", "/api/couriers")
    assert answer.status_code == 200, answer.text
    couriers = {courier["name"]: courier["capabilities"] for courier in answer.json()}
    assert sorted(couriers) == ["ghn", "ghtk"]
    assert couriers["ghn"]["after_pickup"]["picked"] == ["address", "cod", "recipient"]
    assert couriers["ghn"]["before_pickup"] == ["address", "cod", "items", "recipient"]
    assert couriers["ghtk"]["recreate_before_pickup"] is True and couriers["ghtk"]["after_pickup"] == {}


async def test_quotes_come_from_every_courier_cheapest_first(world: World) -> None:
    order = await confirmed(world.api)
    answer = await world.api.request("GET", f"/api/orders/{order['id']}/quotes")
    assert answer.status_code == 200, answer.text
    quotes = answer.json()
    # Both fakes price the parcel (500 g, within Hồ Chí Minh City): GHN 16,500 and a next-day lead time; GHTK
    # 22,000 with no lead time in its fee answer.
    assert quotes == [
        {
            "courier": "ghn",
            "service": "light",
            "fee": 16_500,
            "expected_delivery": {"min_days": 1, "max_days": 1},
            "available": True,
            "reason": None,
        },
        {
            "courier": "ghtk",
            "service": "road",
            "fee": 22_000,
            "expected_delivery": None,
            "available": True,
            "reason": None,
        },
    ]
    fee_call = next(body for path, _, body in world.ghn.calls if path == "/v2/shipping-order/fee")
    assert (fee_call["weight"], fee_call["cod_value"]) == (500, order["cod_amount"])


async def test_a_failing_and_a_silent_courier_are_listed_unavailable(world: World) -> None:
    order = await confirmed(world.api)
    world.ghn.fail_next(1, 500)
    world.ghtk_way.hold()
    answer = await world.api.request("GET", f"/api/orders/{order['id']}/quotes")
    assert answer.status_code == 200, answer.text
    ghn, ghtk = answer.json()
    assert (ghn["courier"], ghn["available"], ghn["fee"]) == ("ghn", False, None)
    assert "500" in ghn["reason"]
    assert (ghtk["courier"], ghtk["available"]) == ("ghtk", False)
    assert ghtk["reason"] == f"no answer within {QUOTE_BOUND_S:g} s"


async def test_ship_without_a_body_keeps_the_orders_courier(world: World) -> None:
    order = await confirmed(world.api, courier="ghtk")
    answer = await ship(world.api, order)
    assert answer.status_code == 200, answer.text
    assert answer.json()["courier"] == "ghtk" and answer.json()["shipment"]["courier"] == "ghtk"


async def test_ship_with_no_choice_takes_the_shops_rule(world: World) -> None:
    order = await confirmed(world.api, courier="ghtk")
    answer = await ship(world.api, order, {})
    assert answer.status_code == 200, answer.text
    shipped = answer.json()
    assert (shipped["courier"], shipped["shipment"]["courier"]) == ("ghn", "ghn")  # the cheaper quote
    events = (await world.api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["changes"]["courier"] == {"before": "ghtk", "after": "ghn"}


async def test_staff_choose_the_courier_and_its_service(world: World) -> None:
    order = await confirmed(world.api, courier="ghn")
    unknown = await ship(world.api, order, {"courier": "ghtk", "service": "fly"})
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["field"] == "service" and "road" in unknown.json()["errors"][0]["message"]
    nobody = await ship(world.api, order, {"courier": "dhl"})
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "courier"
    not_configured = await ship(world.api, order, {"courier": "sandbox"})
    assert not_configured.status_code == 409, not_configured.text
    unchanged = (await world.api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (unchanged["status"], unchanged["version"], unchanged["courier"]) == ("confirmed", order["version"], "ghn")
    answer = await ship(world.api, order, {"courier": "ghtk", "service": "road"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["shipment"]["courier"] == "ghtk"


async def test_no_courier_able_to_quote_is_a_conflict_and_nothing_changes(world: World) -> None:
    order = await confirmed(world.api, courier="ghtk")
    world.ghn.fail_next(1, 500)
    world.ghtk_way.hold()
    answer = await ship(world.api, order, {})
    assert answer.status_code == 409, answer.text
    assert "ghn" in answer.json()["detail"] and "ghtk" in answer.json()["detail"]
    world.ghtk_way.release()
    unchanged = (await world.api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (unchanged["status"], unchanged["version"], unchanged["shipment"]) == ("confirmed", order["version"], None)


@pytest.mark.parametrize("rule", ["fastest", "ghtk"])
async def test_the_rule_from_the_environment(settings: Settings, keys: dict[str, str], rule: str) -> None:
    async with couriers_world(msgspec.structs.replace(settings, ship_rule=rule), keys) as world:
        order = await confirmed(world.api, courier="ghtk" if rule == "fastest" else "ghn")
        answer = await ship(world.api, order, {})
        assert answer.status_code == 200, answer.text
        # fastest: GHN predicts a day, GHTK's fee answer predicts nothing; a fixed courier ships whatever is cheaper.
        assert answer.json()["shipment"]["courier"] == ("ghn" if rule == "fastest" else "ghtk")


async def test_the_dashboard_ship_page_shows_the_quotes_and_staff_pick_one(world: World) -> None:
    staff = await signed_in(world.settings, world.api.client, "lan", "staff")
    order = await confirmed(world.api, courier="ghn")
    base = f"/dashboard/orders/{order['id']}/ship"
    shown = await staff.get(base)
    assert shown.status_code == 200, shown.text
    table = shown.text[shown.text.index('id="quotes"') :]
    assert table.index("GHN") < table.index("GHTK")  # cheapest first
    assert "16.500 ₫" in table and "1 ngày" in table and "22.000 ₫" in table and "hãng không báo" in table
    assert 'value="ghtk:road"' in table

    picked = await staff.post(base, {"version": str(order["version"]), "choice": "ghtk:road"})
    assert picked.status_code == 303, picked.text
    shipped = (await world.api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (shipped["courier"], shipped["shipment"]["courier"]) == ("ghtk", "ghtk")


async def test_the_dashboard_ship_page_lists_a_failing_courier_with_its_reason(world: World) -> None:
    staff = await signed_in(world.settings, world.api.client, "lan", "staff")
    order = await confirmed(world.api)
    world.ghtk_way.hold()
    shown = await staff.get(f"/dashboard/orders/{order['id']}/ship")
    world.ghtk_way.release()
    assert shown.status_code == 200, shown.text
    assert f"Không báo giá được: hãng không trả lời trong {QUOTE_BOUND_S:g} giây" in shown.text
    assert 'value="ghtk:' not in shown.text  # nothing to pick from a courier that did not answer
