"""Numbers from couriers are bounded like staff's money: a verified webhook with a COD no parcel has (10^25, 1e400)
or a kept quantity out of range is a 422 naming the field, the order left as it was; never a 500 the courier
retries forever, never a 200 for a change that overflowed at COMMIT. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_ghn_ghtk_service import GHN_HOOK, GHN_SHOP_ID, GHTK_HOOK, World, fake_couriers
from tests.integration.test_loyalty import signed

pytestmark = pytest.mark.anyio
HUGE = "10000000000000000000000000"  # 10^25 VND: overflows a 64-bit column


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    async with fake_couriers(settings, keys) as made:
        yield made


def names(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert [e["field"] for e in response.json()["errors"]] == [field], response.text


async def unchanged(api: Api, before: dict[str, Any]) -> None:
    now = await api.request("GET", f"/api/orders/{before['id']}")
    assert now.status_code == 200, now.text
    body = now.json()
    assert (body["status"], body["version"], body["shipment"]["status"]) == (
        before["status"],
        before["version"],
        before["shipment"]["status"],
    )
    assert body["cod_collected"] is None and body["shipment"]["cod_amount"] == before["shipment"]["cod_amount"]


async def shipped(world: World, courier: str) -> dict[str, Any]:
    return await world.shipping.ship(await world.api.create_order(courier=courier))


async def test_a_ghn_cod_of_10_to_the_25_is_a_422_naming_it_and_changes_nothing(world: World) -> None:
    order = await shipped(world, "ghn")
    tracking = order["shipment"]["tracking_code"]
    at = datetime.datetime.now(datetime.UTC).isoformat()
    hook = f'{{"OrderCode": "{tracking}", "Status": "delivered", "Time": "{at}", "ShopID": {GHN_SHOP_ID}, '
    response = await world.api.client.post(
        GHN_HOOK, content=f'{hook}"CODAmount": {HUGE}}}', headers={"content-type": "application/json"}
    )
    names(response, "CODAmount")
    await unchanged(world.api, order)
    for bad in ("-1", '"1e400"'):
        again = await world.api.client.post(
            GHN_HOOK, content=f'{hook}"CODAmount": {bad}}}', headers={"content-type": "application/json"}
        )
        names(again, "CODAmount")
    # The same webhook with the amount the parcel had: applied, so the refusal was about the number only.
    cod = order["shipment"]["cod_amount"]
    fine = await world.api.client.post(
        GHN_HOOK, content=f'{hook}"CODAmount": {cod}}}', headers={"content-type": "application/json"}
    )
    assert (fine.status_code, fine.json()) == (200, {"applied": 1}), fine.text
    delivered = (await world.api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (delivered["status"], delivered["cod_collected"]) == ("delivered", cod)


async def test_a_ghtk_pick_money_of_1e400_is_a_422_naming_it_and_a_forged_one_a_401(world: World) -> None:
    order = await shipped(world, "ghtk")
    tracking = order["shipment"]["tracking_code"]
    form = {"label_id": tracking, "partner_id": order["code"], "status_id": "5", "action_time": "2026-05-01T10:00:00"}
    for field, value in (("pick_money", "1e400"), ("pick_money", HUGE), ("pick_money", "-5"), ("fee", "inf")):
        response = await world.api.client.post(GHTK_HOOK, data={**form, field: value})
        names(response, field)
    json_body = await world.api.client.post(GHTK_HOOK, json={**form, "pick_money": 1e300})
    names(json_body, "pick_money")
    await unchanged(world.api, order)
    forged = await world.api.client.post("/webhooks/couriers/ghtk?hash=guess", data={**form, "pick_money": "1e400"})
    assert forged.status_code == 401, forged.text  # verified first: a forger learns nothing about the fields
    fine = await world.api.client.post(GHTK_HOOK, data={**form, "pick_money": str(order["shipment"]["cod_amount"])})
    assert (fine.status_code, fine.json()) == (200, {"applied": 1}), fine.text


async def test_a_signed_sandbox_webhook_out_of_range_is_a_422_naming_the_field(api: Api) -> None:
    order = await Shipping(api).ship(await api.create_order())
    tracking = order["shipment"]["tracking_code"]
    event = {"id": "msg_huge", "type": "shipment.status", "tracking_code": tracking, "client_code": order["code"]}
    event |= {"status": "delivered", "occurred_at": datetime.datetime.now(datetime.UTC).isoformat(), "seq": 9}
    line = {"sku": "DRESS-01", "size": "M", "color": "red"}
    for field, extra in (
        ("cod_collected", {"cod_collected": 10**25}),
        ("kept[0].quantity", {"kept": [{**line, "quantity": 10**30}]}),
    ):
        response = await api.client.post("/webhooks/couriers/sandbox", **signed(api, {**event, **extra}, "msg_huge"))
        names(response, field)
    await unchanged(api, order)
