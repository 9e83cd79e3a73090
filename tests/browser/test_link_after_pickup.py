"""The customer's link after pickup in headless Chromium at 390 px: a read-only page she can act on (call the shop).

SQLite only, like test_customer_page: the integration suite covers the same answers on every engine.
"""

from __future__ import annotations

import time

import httpx

from tests.browser.conftest import Phone
from tests.browser.test_customer_page import _ok, _shipped_order
from tests.integration.api import order_payload
from tests.integration.links import DRESS_L


def test_after_pickup_her_link_shows_the_amount_the_parcel_and_how_to_call_the_shop(
    phone: Phone, staff: httpx.Client
) -> None:
    order = _shipped_order(staff)
    link = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)
    tracking = order["shipment"]["tracking_code"]
    _ok(staff.post(f"/sandbox-courier/shipments/{tracking}/events", json={"status": "picked"}))
    deadline = time.monotonic() + 20
    while _ok(staff.get(f"/api/orders/{order['id']}"))["status"] != "in_transit":
        assert time.monotonic() < deadline, "the pickup never reached the order"
        time.sleep(0.1)
    page = phone.page

    response = page.goto(link["url"])
    assert response is not None and response.status == 200
    assert page.locator("#status").inner_text() == "Đang giao hàng"
    assert page.locator("#cod").inner_text() == "480.000 ₫"
    assert page.locator("#cod .money").evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert page.locator(".tracking").inner_text() == tracking
    assert page.locator("form").count() == 0  # nothing to change, nothing to cancel
    call = page.locator("a.contact-phone")
    assert call.inner_text() == "028 3822 1234" and call.get_attribute("href") == "tel:+842838221234"
    box = call.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb's target
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing off screen at 390 px
    phone.shot("1-after-pickup-390")

    page.goto(link["url"] + "?lang=en")
    assert page.locator("#status").inner_text() == "On its way"
    phone.shot("2-after-pickup-390-en")


def test_a_merged_orders_link_shows_the_order_it_became(phone: Phone, staff: httpx.Client) -> None:
    kept = _ok(staff.post("/api/orders", json=order_payload()), 201)
    second = _ok(staff.post("/api/orders", json=order_payload(customer_id=kept["customer_id"], lines=[DRESS_L])), 201)
    link = _ok(staff.post(f"/api/orders/{second['id']}/edit-link"), 201)
    body = {"order_ids": [kept["id"], second["id"]], "into": kept["id"]}
    survivor = _ok(staff.post("/api/orders/merge", json=body), 201)
    page = phone.page

    response = page.goto(link["url"])
    assert response is not None and response.status == 200
    assert page.locator("#status").inner_text() == "Đã gộp vào đơn khác"
    assert survivor["code"] in page.locator("#merged").inner_text()
    assert page.locator("#cod").inner_text() == f"{survivor['cod_amount']:,} ₫".replace(",", ".")
    assert page.locator("form").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("1-merged-390")
