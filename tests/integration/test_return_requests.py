"""Return requests through HTTP on SQLite and PostgreSQL: asked within the window, bounded by what she kept,
approved once (stock, points and spend for those items only), rejected, and a later whole return takes the rest."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from orders_service.app import create_app
from orders_service.infra import clock
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping, eventually, random_mobile
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio

# A fixed moment, not the hour the suite runs at: the window is counted from the delivery event's time.
DELIVERED = datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
DRESS = {
    "sku": "RR-DRESS",
    "name": "Đầm suông",
    "weight_g": 300,
    "variants": [{"size": "M", "color": "red", "price": 400000, "stock": 5}],
}
SHIRT = {
    "sku": "RR-SHIRT",
    "name": "Áo thun",
    "weight_g": 200,
    "variants": [{"size": "F", "color": "white", "price": 200000, "stock": 5}],
}


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(msgspec.structs.replace(settings, tier_downgrade="immediate"))


async def get(api: Api, path: str) -> Any:
    response = await api.request("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


async def deliver(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    shipping = Shipping(api)
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    delivered = await shipping.order(order["id"])
    assert delivered["status"] == "delivered"
    return delivered


async def stock(api: Api, sku: str) -> int:
    return int((await get(api, f"/api/products/{sku}"))["variants"][0]["stock"])


def ask(api: Api, order: dict[str, Any], *items: dict[str, Any], reason: str = "Chật quá") -> Any:
    body = {"items": list(items), "reason": reason}
    return api.request("POST", f"/api/orders/{order['id']}/return-requests", json=body)


def dress(quantity: int = 1) -> dict[str, Any]:
    return {"sku": "RR-DRESS", "size": "M", "color": "red", "quantity": quantity}


def problem_field(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["errors"][0]["field"])


async def delivered_orders(api: Api, before: Any = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Her first order (she becomes standard: 10%), then two dresses and a shirt from the catalogue, delivered
    (`before`, if given, is awaited with that order before it ships: to send her link)."""
    for product in (DRESS, SHIRT):
        assert (await api.request("POST", "/api/products", json=product)).status_code == 201
    customer = {"full_name": "Lê Thị Hoa", "phones": [random_mobile()]}
    first = await deliver(api, await api.create_order(customer=customer))
    lines = [
        {"sku": "RR-DRESS", "name": "Đầm suông", "size": "M", "color": "red", "quantity": 2},
        {"sku": "RR-SHIRT", "name": "Áo thun", "size": "F", "color": "white", "quantity": 1},
    ]
    second = await api.create_order(customer_id=first["customer_id"], lines=lines)
    assert second["subtotal"] == 1_000_000 and second["discount"]["amount"] == 100_000
    if before is not None:
        await before(second)
    return first["customer_id"], first, await deliver(api, second)


async def test_a_partial_return_reverses_those_items_only_and_once(api: Api) -> None:
    with clock.pinned(DELIVERED):
        me, _, order = await delivered_orders(api)
    assert await stock(api, "RR-DRESS") == 3
    profile = await get(api, f"/api/customers/{me}/profile")
    assert (profile["loyalty"]["points"], profile["loyalty"]["lifetime_spend"]) == (45 + 90, 450_000 + 900_000)

    with clock.pinned(DELIVERED + 3 * DAY):
        asked = await ask(api, order, dress(1), reason="  Chật quá,\n  xin đổi  ")
        assert asked.status_code == 201, asked.text
        request = asked.json()
        assert request["state"] == "requested" and request["reason"] == "Chật quá, xin đổi"
        assert request["items"] == [
            {"sku": "RR-DRESS", "name": "Đầm suông", "size": "M", "color": "red", "unit_price": 400000,
             "quantity": 1, "value": 400000}
        ]  # fmt: skip
        # 400,000 less its share of the 100,000 discount (400,000 of the 1,000,000 goods: 40,000).
        assert (request["value"], request["refund"]) == (400_000, 360_000)
        assert request["requested_by"] == {"kind": "staff", "id": "test-staff"} and request["decided_at"] is None

        # One dress is asked already: the other one may still be, not two; nor what she never had.
        too_many = await ask(api, order, dress(2))
        assert too_many.status_code == 422 and problem_field(too_many) == "items[0].quantity"
        assert "at most 1" in too_many.json()["errors"][0]["message"]
        never = await ask(api, order, {"sku": "RR-DRESS", "size": "L", "color": "red", "quantity": 1})
        assert never.status_code == 422 and problem_field(never) == "items[0]"
        silent = await ask(api, order, dress(1), reason="")
        assert silent.status_code in (400, 422) and problem_field(silent) == "reason"
        zero = await ask(api, order, dress(0))
        assert zero.status_code in (400, 422) and problem_field(zero) == "items[0].quantity"

        listed = await get(api, f"/api/orders/{order['id']}/return-requests")
        assert [(i["sku"], i["quantity"]) for i in listed["returnable"]] == [("RR-DRESS", 1), ("RR-SHIRT", 1)]
        ends = datetime.datetime.fromisoformat(listed["window_ends_at"])
        assert DELIVERED + 7 * DAY - datetime.timedelta(minutes=5) < ends <= DELIVERED + 7 * DAY + DAY / 24
        waiting = await get(api, "/api/return-requests")
        assert [r["id"] for r in waiting["items"]] == [request["id"]] and waiting["total"] == 1

        approved = await api.request("POST", f"/api/return-requests/{request['id']}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "approved" and approved.json()["decided_by"] == "test-staff"
        again = await api.request("POST", f"/api/return-requests/{request['id']}/approve")
        assert again.status_code == 409 and again.json()["type"].endswith("/not-amendable")

    assert await stock(api, "RR-DRESS") == 4  # the returned dress is on hand again
    profile = await get(api, f"/api/customers/{me}/profile")
    # 90 points and 900,000 of spend for the order; the dress took 36 points (90 x 360,000 / 900,000) and 360,000.
    assert (profile["loyalty"]["points"], profile["loyalty"]["lifetime_spend"]) == (45 + 54, 450_000 + 540_000)
    assert profile["stats"]["delivered_orders"] == 2
    events = await get(api, f"/api/orders/{order['id']}/events")
    assert [e["type"] for e in events][-2:] == ["return_requested", "return_approved"]
    current = await get(api, f"/api/orders/{order['id']}")
    assert current["status"] == "delivered" and current["version"] == order["version"]  # the order is as it was

    with clock.pinned(DELIVERED + 4 * DAY):
        shirt = await ask(api, order, {"sku": "RR-SHIRT", "size": "F", "color": "white", "quantity": 1})
        assert shirt.status_code == 201, shirt.text
        rejected = await api.request(
            "POST", f"/api/return-requests/{shirt.json()['id']}/reject", json={"reason": "Áo đã giặt"}
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["state"] == "rejected" and rejected.json()["decision_reason"] == "Áo đã giặt"
        late = await api.request("POST", f"/api/return-requests/{shirt.json()['id']}/approve")
        assert late.status_code == 409
        # A rejected request no longer holds its shirt: she may ask again.
        listed = await get(api, f"/api/orders/{order['id']}/return-requests")
        assert [(i["sku"], i["quantity"]) for i in listed["returnable"]] == [("RR-DRESS", 1), ("RR-SHIRT", 1)]
    assert await stock(api, "RR-SHIRT") == 4
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["points"] == 45 + 54

    async def told() -> dict[str, str] | None:
        listed = await get(api, f"/api/notifications?order_id={order['id']}")
        found = {m["template"]: m["body"] for m in listed["items"]}
        return found if {"return_approved", "return_rejected"} <= set(found) else None

    messages = await eventually(told)  # she hears both decisions, the refund and the shop's reason
    assert "360.000 ₫" in messages["return_approved"] and "Áo đã giặt" in messages["return_rejected"]

    # The rest comes back whole: only what is left is reversed and restocked.
    current = await get(api, f"/api/orders/{order['id']}")
    back = await api.request(
        "POST", f"/api/orders/{order['id']}/return", headers={"If-Match": f'"{current["version"]}"'}
    )
    assert back.status_code == 200, back.text
    assert (await stock(api, "RR-DRESS"), await stock(api, "RR-SHIRT")) == (5, 5)
    profile = await get(api, f"/api/customers/{me}/profile")
    assert (profile["loyalty"]["points"], profile["loyalty"]["lifetime_spend"]) == (45, 450_000)
    ledger = (await get(api, f"/api/customers/{me}/points"))["items"]
    assert [(e["kind"], e["points"]) for e in ledger] == [
        ("earn", 45),
        ("earn", 90),
        ("reverse", -36),
        ("reverse", -54),
    ]


async def test_only_a_delivered_order_within_the_window_gets_one(api: Api) -> None:
    with clock.pinned(DELIVERED):
        _, first, order = await delivered_orders(api)
        open_order = await api.create_order()
    with clock.pinned(DELIVERED + 2 * DAY):
        not_yet = await ask(api, open_order, {"sku": "DRESS-01", "size": "M", "color": "red", "quantity": 1})
        assert not_yet.status_code == 409 and "delivered" in not_yet.json()["detail"]
        unknown = await api.request(
            "POST",
            "/api/orders/0190f1a2-0000-7000-8000-000000000000/return-requests",
            json={"items": [dress()], "reason": "x"},
        )
        assert unknown.status_code == 404
        missing = await api.request("POST", "/api/return-requests/0190f1a2-0000-7000-8000-000000000000/approve")
        assert missing.status_code == 404
        anonymous = await api.request("GET", f"/api/orders/{order['id']}/return-requests", key=None)
        assert anonymous.status_code == 401
    with clock.pinned(DELIVERED + 7 * DAY + datetime.timedelta(hours=2)):
        late = await ask(api, order, dress(1))
        assert late.status_code == 409, late.text
        assert "7 days after delivery" in late.json()["detail"]
        listed = await get(api, f"/api/orders/{order['id']}/return-requests")
        assert listed["window_ends_at"] is None and listed["returnable"] == []
    assert first["status"] == "delivered"
