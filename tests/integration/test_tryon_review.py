"""Try-on deliveries finalised through HTTP: kept items, returns to restock, COD checks, and staff reviews."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import StaffAlert
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping
from tests.integration.conftest import DATABASES
from tests.integration.test_ghn_ghtk_service import (
    GHN_HOOK,
    World,
    events_of,
    fake_couriers,
    ghn_webhooks,
    ghtk_webhooks,
    refused,
    tryon_order,
)

pytestmark = pytest.mark.anyio

SOCKS = {"sku": "SOCK-01", "name": "Tất", "size": "F", "color": "black", "unit_price": 50000, "quantity": 2}
DRESS = {
    "sku": "DRESS-07",
    "name": "Đầm thử",
    "quantity": 1,
    "tryon_options": [
        {"size": "M", "color": "red", "unit_price": 450000},
        {"size": "L", "color": "red", "unit_price": 420000},
    ],
}
KEPT_L_DRESS = {"sku": "DRESS-07", "size": "L", "color": "red", "quantity": 1}
KEPT_ONE_SOCK = {"sku": "SOCK-01", "size": "F", "color": "black", "quantity": 1}
# The adapters of GHN and GHTK talk to in-process fakes, which the Celery engine's worker cannot reach.
ON_DATABASES = pytest.mark.parametrize("settings", DATABASES, indirect=True)


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


@pytest.fixture
async def world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    async with fake_couriers(settings, keys) as made:
        yield made


async def alerts(settings: Settings, order: dict[str, Any]) -> list[tuple[str, bool]]:
    """(kind, resolved) of the order's staff alerts, oldest first."""
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            query = select(StaffAlert).where(StaffAlert.order_id == uuid.UUID(order["id"])).order_by(StaffAlert.id)
            return [(alert.kind, alert.resolved_at is not None) for alert in await session.scalars(query)]
    finally:
        await engine.dispose()


async def returns_of(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    response = await api.request("GET", f"/api/orders/{order['id']}/returns")
    assert response.status_code == 200, response.text
    return dict(response.json())


def returned(sku: str, name: str, size: str, color: str, price: int, quantity: int, reason: str) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": name,
        "size": size,
        "color": color,
        "unit_price": price,
        "quantity": quantity,
        "reason": reason,
    }


async def delivered(api: Api, shipping: Shipping, lines: list[dict[str, Any]], **report: Any) -> dict[str, Any]:
    """An order of `lines` shipped through the sandbox, picked up, then delivered as `report` says."""
    order = await shipping.ship(await api.create_order(lines=lines))
    tracking = order["shipment"]["tracking_code"]
    await shipping.courier_event(tracking, "picked")
    await shipping.courier_event(tracking, "delivered", **report)
    return await shipping.synced(order["id"])


async def test_she_keeps_the_l_dress_and_one_sock(api: Api, shipping: Shipping, settings: Settings) -> None:
    final = await delivered(api, shipping, [SOCKS, DRESS], kept=[KEPT_L_DRESS, KEPT_ONE_SOCK], cod_collected=500000)
    assert final["status"] == "partially_delivered"  # a sock came back
    assert (final["subtotal"], final["total"], final["cod_amount"]) == (470000, 500000, 500000)
    dress = next(line for line in final["lines"] if line["sku"] == "DRESS-07")
    assert dress["kept"] == [{"size": "L", "color": "red", "unit_price": 420000, "quantity": 1}]
    assert (final["cod_collected"], final["cod_mismatch"]) == (500000, False)
    assert await returns_of(api, final) == {
        "order_id": final["id"],
        "items": [
            returned("SOCK-01", "Tất", "F", "black", 50000, 1, "not_kept"),
            returned("DRESS-07", "Đầm thử", "M", "red", 450000, 1, "tryon_not_kept"),
        ],
        "total_quantity": 2,
        "value": 500000,
    }
    assert "cod_mismatch" not in {event["type"] for event in await events_of(api, final)}
    assert await alerts(settings, final) == []


async def test_a_courier_that_collected_less_is_flagged(api: Api, shipping: Shipping, settings: Settings) -> None:
    final = await delivered(api, shipping, [DRESS], kept=[KEPT_L_DRESS], cod_collected=400000)
    assert (final["status"], final["cod_amount"]) == ("delivered", 450000)
    assert (final["cod_collected"], final["cod_mismatch"]) == (400000, True)
    flagged = (await events_of(api, final))[-1]
    assert (flagged["type"], flagged["actor"]["kind"]) == ("cod_mismatch", "system")
    assert "400000" in flagged["reason"] and "450000" in flagged["reason"]
    assert await alerts(settings, final) == [("cod_mismatch", False)]
    assert (await returns_of(api, final))["items"] == [
        returned("DRESS-07", "Đầm thử", "M", "red", 450000, 1, "tryon_not_kept")
    ]


async def test_a_parcel_that_comes_back_whole_restocks_everything(api: Api, shipping: Shipping) -> None:
    order = await shipping.ship(await api.create_order(lines=[SOCKS, DRESS]))
    tracking = order["shipment"]["tracking_code"]
    await shipping.courier_event(tracking, "delivery_failed")
    await shipping.courier_event(tracking, "returned")
    final = await shipping.order(order["id"])
    assert final["status"] == "returned"
    back = await returns_of(api, final)
    assert back["items"] == [
        returned("SOCK-01", "Tất", "F", "black", 50000, 2, "returned"),
        returned("DRESS-07", "Đầm thử", "M", "red", 450000, 1, "returned"),
        returned("DRESS-07", "Đầm thử", "L", "red", 420000, 1, "returned"),
    ]
    assert (back["total_quantity"], back["value"]) == (4, 970000)
    unknown = await api.request("GET", f"/api/orders/{uuid.uuid4()}/returns")
    assert unknown.status_code == 404


async def review(world: World, order: dict[str, Any], body: Any, etag: str | None = None) -> Any:
    headers = {"If-Match": etag or f'"{order["version"]}"'}
    return await world.api.request("POST", f"/api/orders/{order['id']}/review", json=body, headers=headers)


def invalid_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["errors"][0]["field"])


@ON_DATABASES
async def test_ghn_partial_delivery_waits_for_a_staff_review(world: World, settings: Settings) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await tryon_order(api, "ghn"))  # a dress, and a shirt tried in M white or L blue
    tracking = order["shipment"]["tracking_code"]
    ghn.set_status(tracking, "picked")
    await ghn_webhooks(world)
    ghn.set_status(tracking, "delivered", partial=True, cod=800000)
    [partial] = await ghn_webhooks(world)

    waiting = await shipping.order(order["id"])
    assert (waiting["status"], waiting["cod_collected"], waiting["cod_mismatch"]) == ("needs_review", 800000, False)
    reported = (await events_of(api, order))[-1]
    assert (reported["actor"], reported["changes"]["status"]) == (
        {"kind": "courier", "id": "ghn"},
        {"before": "in_transit", "after": "needs_review"},
    )
    assert "partial delivery without the items kept" in reported["reason"] and "800000" in reported["reason"]
    assert await alerts(settings, order) == [("needs_review", False)]
    refused(await api.amend(waiting, {"op": "set_recipient", "name": "Chị Hoa"}), "review")

    dress = {"sku": "DRESS-01", "size": "M", "color": "red", "quantity": 1}
    white_shirt = {"sku": "SHIRT-02", "size": "M", "color": "white", "quantity": 1}
    assert invalid_field(await review(world, waiting, {"kept": [dress, {**white_shirt, "quantity": 2}]})) == (
        "kept[1].quantity"
    )
    assert invalid_field(await review(world, waiting, {"kept": [{**dress, "sku": "HAT-09"}]})) == "kept[0].sku"
    assert invalid_field(await review(world, waiting, {"kept": [{**white_shirt, "color": "pink"}]})) == "kept[0].color"
    assert invalid_field(await review(world, waiting, {"kept": [{**dress, "quantity": 0}]})) == "kept[0].quantity"
    stale = await review(world, waiting, {"kept": [dress]}, etag='"1"')
    assert stale.status_code == 412 and stale.json()["current_version"] == waiting["version"]
    anonymous = await api.request("POST", f"/api/orders/{order['id']}/review", key=None, json={"kept": []})
    assert anonymous.status_code == 401

    reviewed = await review(world, waiting, {"kept": [dress, white_shirt], "note": "khách giữ áo trắng"})
    assert reviewed.status_code == 200, reviewed.text
    final = reviewed.json()
    assert reviewed.headers["ETag"] == f'"{waiting["version"] + 1}"'
    assert (final["status"], final["subtotal"], final["cod_amount"]) == ("delivered", 800000, 830000)
    assert (final["cod_collected"], final["cod_mismatch"]) == (800000, True)
    *_, by_staff, flagged = await events_of(api, order)
    assert (by_staff["type"], by_staff["actor"]["kind"], by_staff["reason"]) == (
        "delivery_reviewed",
        "staff",
        "khách giữ áo trắng",
    )
    assert (by_staff["cod_before"], by_staff["cod_after"]) == (860000, 830000)
    assert flagged["type"] == "cod_mismatch" and "800000" in flagged["reason"] and "830000" in flagged["reason"]
    assert await alerts(settings, order) == [("needs_review", True), ("cod_mismatch", False)]
    assert (await returns_of(api, order))["items"] == [
        returned("SHIRT-02", "Sơ mi", "L", "blue", 380000, 1, "tryon_not_kept")
    ]
    refused(await review(world, final, {"kept": [dress]}), "needs_review")

    history = await events_of(api, order)
    replay = await api.client.post(GHN_HOOK, json=partial)
    assert replay.status_code == 200 and replay.json() == {"duplicate": 1}
    ghn.set_status(tracking, "delivered", partial=True, cod=800000)  # GHN says it again, later
    await ghn_webhooks(world)
    after = await shipping.order(order["id"])
    assert (after["status"], after["version"], after["cod_amount"]) == ("delivered", final["version"], 830000)
    assert len(await events_of(api, order)) == len(history)
    assert len((await returns_of(api, order))["items"]) == 1


@ON_DATABASES
async def test_ghtk_partial_delivery_reviewed_as_nothing_kept_then_returned(world: World) -> None:
    api, shipping, ghtk = world.api, world.shipping, world.ghtk
    order = await shipping.ship(await tryon_order(api, "ghtk"))
    label = order["shipment"]["tracking_code"]
    ghtk.set_status(label, 3)
    ghtk.set_status(label, 5, return_part_package=True, pick_money=30000)
    await ghtk_webhooks(world)
    waiting = await shipping.order(order["id"])
    assert (waiting["status"], waiting["cod_collected"]) == ("needs_review", 30000)

    reviewed = await review(world, waiting, {"kept": []})
    assert reviewed.status_code == 200, reviewed.text
    assert (reviewed.json()["status"], reviewed.json()["cod_mismatch"]) == ("returning", False)
    back = await returns_of(api, order)
    assert [(item["sku"], item["size"], item["reason"]) for item in back["items"]] == [
        ("DRESS-01", "M", "not_kept"),
        ("SHIRT-02", "M", "tryon_not_kept"),
        ("SHIRT-02", "L", "tryon_not_kept"),
    ]
    ghtk.set_status(label, 6)  # reconciled as delivered: it does not undo the review
    await ghtk_webhooks(world)
    assert (await shipping.order(order["id"]))["version"] == reviewed.json()["version"]

    ghtk.set_status(label, 21)  # the parcel is back at the shop
    await ghtk_webhooks(world)
    final = await shipping.order(order["id"])
    assert final["status"] == "returned"
    again = await returns_of(api, order)
    assert {item["reason"] for item in again["items"]} == {"returned"}
    assert (again["total_quantity"], again["value"]) == (back["total_quantity"], back["value"]) == (3, 1180000)
