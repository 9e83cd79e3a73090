"""The customer's page on a 390 px phone offers only the catalogue's sizes in stock, at the catalogue's price.

SQLite only, like the other browser tests: the stock rules themselves run on both engines in the integration
suite (tests/integration/test_stock*.py).
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Phone
from tests.integration.api import order_payload

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


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def test_she_swaps_to_a_size_in_stock_at_the_catalogue_price(phone: Phone, staff: httpx.Client) -> None:
    line = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "quantity": 1}
    # An order sold it in XL before the catalogue: without it, the page would offer XL from that order.
    _ok(staff.post("/api/orders", json=order_payload(lines=[{**line, "size": "XL", "unit_price": 500000}])), 201)
    _ok(staff.post("/api/products", json=DRESS), 201)
    order = _ok(staff.post("/api/orders", json=order_payload(lines=[line])), 201)
    assert (order["lines"][0]["unit_price"], order["cod_amount"]) == (450000, 480000)
    link = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)
    page, line_id = phone.page, order["lines"][0]["id"]

    page.goto(link["url"])
    select = page.locator(f"#variant-{line_id}")
    labels = [text.strip() for text in select.locator("option").all_inner_texts()]
    assert labels == ["M / red · 450.000 ₫", "L / red · 470.000 ₫"]  # no S (none left), no XL (not sold)
    phone.shot("1-offered")

    select.select_option('["L","red"]')
    expect(page.locator("#new-cod")).to_have_text("500.000 ₫")
    page.get_by_role("button", name="Xem số tiền mới").click()
    page.wait_for_selector("#confirm-button")
    phone.shot("2-preview")
    page.get_by_role("button", name="Xác nhận thay đổi").click()
    page.wait_for_selector("#notice")
    assert page.locator("#cod").inner_text() == "500.000 ₫"
    phone.shot("3-confirmed")

    saved = _ok(staff.get(f"/api/orders/{order['id']}"))
    assert (saved["lines"][0]["size"], saved["lines"][0]["unit_price"]) == ("L", 470000)
    variants = {v["size"]: (v["stock"], v["reserved"]) for v in _ok(staff.get("/api/products/DRESS-01"))["variants"]}
    assert variants == {"S": (0, 0), "M": (5, 0), "L": (1, 1)}

    page.goto(link["url"])  # the last L is hers now: the page still offers it to her, and M (in stock)
    labels = [text.strip() for text in page.locator(f"#variant-{line_id}").locator("option").all_inner_texts()]
    assert labels == ["L / red · 470.000 ₫", "M / red · 450.000 ₫"]
    phone.shot("4-after")
