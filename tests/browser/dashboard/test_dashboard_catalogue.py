"""Staff swap a size and choose try-on options from the catalogue's stock, clicked in Chromium (1366 and 390 px)."""

from __future__ import annotations

import pytest

from tests.browser.dashboard.conftest import Site, sign_in

pytestmark = pytest.mark.anyio

DRESS = {
    "sku": "DRESS-01",
    "name": "Đầm hoa",
    "weight_g": 300,
    "variants": [
        {"size": "S", "color": "red", "price": 440000, "stock": 0},
        {"size": "M", "color": "red", "price": 450000, "stock": 5},
        {"size": "L", "color": "red", "price": 470000, "stock": 1},
    ],
}
SHIRT = {
    "sku": "SHIRT-02",
    "name": "Sơ mi",
    "weight_g": 200,
    "variants": [
        {"size": "M", "color": "white", "price": 350000, "stock": 2},
        {"size": "L", "color": "white", "price": 350000, "stock": 0},
        {"size": "L", "color": "blue", "price": 380000, "stock": 1},
    ],
}


async def test_swap_a_size_and_choose_tryon_options_from_stock(site: Site) -> None:
    for product in (DRESS, SHIRT):
        assert (await site.api.post("/api/products", json=product)).status_code == 201
    dress = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "quantity": 1}
    shirt = {"sku": "SHIRT-02", "name": "Sơ mi", "quantity": 1, "tryon_options": [{"size": "M", "color": "white"}]}
    order = await site.create_order(lines=[dress, shirt])
    plain, tryon = order["lines"]
    await sign_in(site)
    await site.open(f"/dashboard/orders/{order['id']}/amend")
    variant = site.page.locator(f"select[name=variant_{plain['id']}]")
    labels = [text.strip() for text in await variant.locator("option").all_inner_texts()]
    assert labels == ["M / red · 450.000₫ · còn 5", "L / red · 470.000₫ · còn 1"]  # no S: none left
    boxes = site.page.locator(f"input[name=opts_{tryon['id']}]")
    assert await boxes.count() == 2  # M white (hers) and L blue; L white has none left
    await variant.select_option(label="L / red · 470.000₫ · còn 1")
    await boxes.nth(1).check()
    await site.shoot("form")
    await site.page.click("text=Xem trước")
    await site.page.wait_for_selector("#preview")
    await site.shoot("preview")
    await site.page.click("text=Xác nhận thay đổi")
    await site.page.wait_for_selector("#timeline")
    after = await site.order(order["id"])
    assert (after["lines"][0]["size"], after["lines"][0]["unit_price"]) == ("L", 470000)
    options = [(o["size"], o["color"], o["unit_price"]) for o in after["lines"][1]["tryon_options"]]
    assert options == [("M", "white", 350000), ("L", "blue", 380000)]
    assert after["weight_g"] == 300 + 2 * 200
    await site.shoot("amended")
