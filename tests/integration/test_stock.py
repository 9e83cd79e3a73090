"""Stock through HTTP: orders take catalogue prices and weights, reserve, and move, release, sell and restock
what they hold as the contract says; not enough is a 409 naming the line, and a refused change changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping, order_payload
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


DRESS = {
    "sku": "DRESS-01",
    "name": "Đầm hoa",
    "weight_g": 300,
    "length_cm": 30,
    "width_cm": 20,
    "height_cm": 4,
    "variants": [
        {"size": "M", "color": "red", "price": 450000, "stock": 5},
        {"size": "L", "color": "red", "price": 470000, "stock": 1, "weight_g": 350},
    ],
}
SHIRT = {
    "sku": "SHIRT-02",
    "name": "Sơ mi",
    "weight_g": 200,
    "variants": [
        {"size": "M", "color": "white", "price": 350000, "stock": 2},
        {"size": "L", "color": "white", "price": 350000, "stock": 2},
        {"size": "L", "color": "blue", "price": 380000, "stock": 1},
    ],
}


def dress(size: str = "M", quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"sku": "DRESS-01", "name": "Đầm hoa", "size": size, "color": "red", "quantity": quantity, **extra}


def tryon_shirt() -> dict[str, Any]:
    options = [{"size": "M", "color": "white"}, {"size": "L", "color": "white"}, {"size": "L", "color": "blue"}]
    return {"sku": "SHIRT-02", "name": "Sơ mi", "quantity": 1, "tryon_options": options}


async def stock_of(api: Api, sku: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    product = (await api.request("GET", f"/api/products/{sku}")).json()
    return {(v["size"], v["color"]): (v["stock"], v["reserved"], v["available"]) for v in product["variants"]}


@pytest.fixture
async def catalogue(api: Api) -> None:
    for product in (DRESS, SHIRT):
        response = await api.request("POST", "/api/products", json=product)
        assert response.status_code == 201, response.text


async def create(api: Api, *lines: dict[str, Any]) -> Any:
    return await api.request("POST", "/api/orders", json=order_payload(lines=list(lines)))


async def test_a_catalogue_line_takes_price_and_weight_and_reserves(api: Api, catalogue: None) -> None:
    response = await create(api, dress(quantity=2), tryon_shirt(), {"sku": "GIFT", "name": "Quà", "unit_price": 0})
    assert response.status_code == 201, response.text
    order = response.json()
    line, shirt, gift = order["lines"]
    assert (line["unit_price"], line["amount"], line["weight_g"]) == (450000, 900000, 600)
    assert [o["unit_price"] for o in shirt["tryon_options"]] == [350000, 350000, 380000]
    assert [o["weight_g"] for o in shirt["tryon_options"]] == [200, 200, 200]
    assert shirt["weight_g"] == 600
    assert "weight_g" not in gift  # not in the catalogue
    assert order["weight_g"] == 600 + 600 + 500  # the catalogue's, and the default for the rest
    assert order["dimensions"] == {"length_cm": 30, "width_cm": 20, "height_cm": 8}
    assert order["subtotal"] == 900000 + 380000
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 2, 3)
    assert await stock_of(api, "SHIRT-02") == {
        ("M", "white"): (2, 1, 1),
        ("L", "white"): (2, 1, 1),
        ("L", "blue"): (1, 1, 0),
    }


async def test_skus_not_in_the_catalogue_work_as_before(api: Api, catalogue: None) -> None:
    order = await api.create_order(lines=[dress(unit_price=400000)])  # a price given is the shop's
    assert (order["lines"][0]["unit_price"], order["weight_g"]) == (400000, 300)
    plain = await create(api, {"sku": "HAT-9", "name": "Mũ", "unit_price": 90000, "quantity": 3})
    assert plain.status_code == 201, plain.text
    assert (plain.json()["weight_g"], plain.json()["subtotal"], plain.json()["dimensions"]) == (500, 270000, None)
    no_price = await create(api, {"sku": "HAT-9", "name": "Mũ", "quantity": 1})
    assert no_price.status_code == 422
    assert no_price.json()["errors"][0]["field"] == "lines[0].unit_price"


async def test_not_enough_is_a_409_naming_the_line_and_changes_nothing(api: Api, catalogue: None) -> None:
    response = await create(api, dress("M"), dress("L", quantity=2))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"].endswith("/out-of-stock")
    assert problem["errors"][0]["field"] == "lines[1]"
    assert "1 available" in problem["errors"][0]["message"]
    assert await stock_of(api, "DRESS-01") == {("M", "red"): (5, 0, 5), ("L", "red"): (1, 0, 1)}
    orders = (await api.request("GET", "/api/orders")).json()
    assert orders["total"] == 0

    option = await create(api, tryon_shirt(), {**tryon_shirt(), "name": "Sơ mi 2"})
    assert option.status_code == 409
    assert option.json()["errors"][0]["field"] == "lines[1].tryon_options[2]"  # the last blue L is taken

    unknown = await create(api, dress("XL"))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "lines[0].size"


async def test_amendments_move_reservations_and_a_refusal_changes_nothing(api: Api, catalogue: None) -> None:
    order = (await create(api, dress("M", quantity=2))).json()
    line_id = order["lines"][0]["id"]
    preview = await api.amend(order, {"op": "set_quantity", "line_id": line_id, "quantity": 6}, dry_run=True)
    assert preview.status_code == 409  # the dry run says so too
    assert preview.json()["errors"][0]["field"] == "operations[0]"
    fits = await api.amend(order, {"op": "set_quantity", "line_id": line_id, "quantity": 5}, dry_run=True)
    assert fits.status_code == 200, fits.text
    too_many = await api.amend(order, {"op": "set_quantity", "line_id": line_id, "quantity": 6})
    assert too_many.status_code == 409
    assert too_many.json()["type"].endswith("/out-of-stock")
    assert too_many.json()["errors"][0]["field"] == "operations[0]"
    current = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (current["version"], current["lines"][0]["quantity"]) == (order["version"], 2)
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 2, 3)

    swapped = await api.amend(order, {"op": "swap_variant", "line_id": line_id, "size": "L"})
    assert swapped.status_code == 409  # two L wanted, one in stock
    one = await api.amend(order, {"op": "set_quantity", "line_id": line_id, "quantity": 1})
    assert one.status_code == 200, one.text
    swapped = await api.amend(one.json(), {"op": "swap_variant", "line_id": line_id, "size": "L"})
    assert swapped.status_code == 200, swapped.text
    assert (swapped.json()["lines"][0]["unit_price"], swapped.json()["weight_g"]) == (470000, 350)
    assert await stock_of(api, "DRESS-01") == {("M", "red"): (5, 0, 5), ("L", "red"): (1, 1, 0)}

    added = await api.amend(swapped.json(), {"op": "add_line", "line": tryon_shirt()})
    assert added.status_code == 200, added.text
    assert (await stock_of(api, "SHIRT-02"))[("L", "blue")] == (1, 1, 0)
    shirt = added.json()["lines"][1]
    fewer = await api.amend(
        added.json(),
        {"op": "set_tryon_options", "line_id": shirt["id"], "tryon_options": [{"size": "M", "color": "white"}]},
    )
    assert fewer.status_code == 200, fewer.text
    assert fewer.json()["lines"][1]["tryon_options"][0]["unit_price"] == 350000
    assert await stock_of(api, "SHIRT-02") == {
        ("M", "white"): (2, 1, 1),
        ("L", "white"): (2, 0, 2),
        ("L", "blue"): (1, 0, 1),
    }
    removed = await api.amend(fewer.json(), {"op": "remove_line", "line_id": shirt["id"]})
    assert removed.status_code == 200, removed.text
    assert (await stock_of(api, "SHIRT-02"))[("M", "white")] == (2, 0, 2)

    cancelled = await api.request(
        "POST", f"/api/orders/{order['id']}/cancel", headers={"If-Match": f'"{removed.json()["version"]}"'}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert await stock_of(api, "DRESS-01") == {("M", "red"): (5, 0, 5), ("L", "red"): (1, 0, 1)}


async def test_merge_and_split_move_reservations(api: Api, catalogue: None) -> None:
    first = (await create(api, dress("M", quantity=2))).json()
    payload = order_payload(lines=[dress("L")], customer_id=first["customer_id"])
    second = (await api.request("POST", "/api/orders", json=payload)).json()
    merged = await api.request("POST", "/api/orders/merge", json={"order_ids": [first["id"], second["id"]]})
    assert merged.status_code == 201, merged.text
    assert merged.json()["weight_g"] == 2 * 300 + 350
    assert await stock_of(api, "DRESS-01") == {("M", "red"): (5, 2, 3), ("L", "red"): (1, 1, 0)}
    whole = merged.json()
    m_line = next(line for line in whole["lines"] if line["size"] == "M")
    split = await api.request(
        "POST",
        f"/api/orders/{whole['id']}/split",
        json={"parts": [{"lines": [{"line_id": m_line["id"], "quantity": 1}]}]},
        headers={"If-Match": f'"{whole["version"]}"'},
    )
    assert split.status_code == 201, split.text
    original, part = split.json()["orders"]
    assert (original["weight_g"], part["weight_g"]) == (300 + 350, 300)
    assert await stock_of(api, "DRESS-01") == {("M", "red"): (5, 2, 3), ("L", "red"): (1, 1, 0)}
    cancelled = await api.request(
        "POST", f"/api/orders/{part['id']}/cancel", headers={"If-Match": f'"{part["version"]}"'}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 1, 4)


async def test_delivery_sells_what_was_kept_and_a_return_puts_it_back(api: Api, catalogue: None) -> None:
    shipping = Shipping(api)
    order = (await create(api, dress("M", quantity=2), tryon_shirt())).json()
    shipped = await shipping.ship(order)
    tracking = shipped["shipment"]["tracking_code"]
    parcel = await shipping.parcel(tracking)
    assert parcel["weight_g"] == 2 * 300 + 3 * 200  # what the courier is sent: the catalogue's weights
    await shipping.courier_event(tracking, "picked")
    await shipping.synced(order["id"])
    assert await stock_of(api, "SHIRT-02") == {
        ("M", "white"): (2, 1, 1),
        ("L", "white"): (2, 1, 1),
        ("L", "blue"): (1, 1, 0),
    }
    kept = [
        {"sku": "DRESS-01", "size": "M", "color": "red", "quantity": 1},
        {"sku": "SHIRT-02", "size": "L", "color": "blue", "quantity": 1},
    ]
    await shipping.courier_event(tracking, "delivered", kept=kept, cod_collected=1)
    final = await shipping.synced(order["id"])
    assert final["status"] == "partially_delivered"
    assert await stock_of(api, "DRESS-01") == {("M", "red"): (4, 0, 4), ("L", "red"): (1, 0, 1)}
    assert await stock_of(api, "SHIRT-02") == {
        ("M", "white"): (2, 0, 2),
        ("L", "white"): (2, 0, 2),
        ("L", "blue"): (0, 0, 0),
    }

    back = await api.request("POST", f"/api/orders/{order['id']}/return", headers={"If-Match": f'"{final["version"]}"'})
    assert back.status_code == 200, back.text
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 0, 5)
    assert (await stock_of(api, "SHIRT-02"))[("L", "blue")] == (1, 0, 1)


async def test_stock_cannot_go_below_what_orders_hold(api: Api, catalogue: None) -> None:
    assert (await create(api, dress("M", quantity=3))).status_code == 201
    lower = await api.request(
        "PATCH", "/api/products/DRESS-01", json={"variants": [{"size": "M", "color": "red", "stock": 2}]}
    )
    assert lower.status_code == 422
    assert lower.json()["errors"][0]["field"] == "variants[0].stock"
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 3, 2)
    exact = await api.request(
        "PATCH", "/api/products/DRESS-01", json={"variants": [{"size": "M", "color": "red", "stock": 3}]}
    )
    assert exact.status_code == 200, exact.text
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (3, 3, 0)


async def test_an_order_whose_sku_the_catalogue_starts_selling_reserves_when_amended(api: Api) -> None:
    """The order's read says whether the catalogue sells any of its SKUs (an amendment of an order it does not
    sell needs no lookup); one it has started to sell since the order was made reserves at the next change."""
    response = await create(api, dress(quantity=1, unit_price=400000), {"sku": "GIFT", "name": "Quà", "unit_price": 0})
    assert response.status_code == 201, response.text
    order = response.json()
    amended = await api.amend(order, {"op": "set_quantity", "line_id": order["lines"][1]["id"], "quantity": 2})
    assert amended.status_code == 200, amended.text
    order = amended.json()
    assert "weight_g" not in order["lines"][0]
    added = await api.request("POST", "/api/products", json=DRESS)
    assert added.status_code == 201, added.text
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 0, 5)
    amended = await api.amend(order, {"op": "set_quantity", "line_id": order["lines"][0]["id"], "quantity": 2})
    assert amended.status_code == 200, amended.text
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 2, 3)
    assert amended.json()["lines"][0]["weight_g"] == 600
