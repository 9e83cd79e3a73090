"""The customer's page in real headless Chromium on a phone screen: change the address and a size, confirm.

SQLite (the embedded engine) only: the page, its form and its script are the same on every engine, which the
integration suite already runs three times over HTTP; a browser per engine would add minutes, not coverage.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Phone
from tests.integration.api import HANOI, HOAN_KIEM, order_payload
from tests.integration.links import DRESS_L


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def _shipped_order(staff: httpx.Client) -> dict[str, Any]:
    """An order of a dress in M at the courier (ready to ship), after another order sold the dress in L."""
    _ok(staff.post("/api/orders", json=order_payload(lines=[DRESS_L])), 201)
    order = _ok(staff.post("/api/orders", json=order_payload()), 201)
    confirmed = _ok(staff.post(f"/api/orders/{order['id']}/confirm", headers={"If-Match": '"1"'}))
    _ok(staff.post(f"/api/orders/{order['id']}/ship", headers={"If-Match": f'"{confirmed["version"]}"'}))
    return _synced(staff, order["id"])


def _synced(staff: httpx.Client, order_id: str, within_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        order = _ok(staff.get(f"/api/orders/{order_id}"))
        shipment = order["shipment"]
        if shipment and shipment["sync_state"] == "synced" and shipment["synced_version"] == order["version"]:
            return order
        assert time.monotonic() < deadline, f"the courier did not catch up: {order['shipment']}"
        time.sleep(0.1)


def test_she_changes_the_address_and_a_size_sees_the_new_amount_and_confirms(phone: Phone, staff: httpx.Client) -> None:
    order = _shipped_order(staff)
    assert (order["status"], order["cod_amount"]) == ("ready_to_ship", 480000)
    link = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)
    page, line = phone.page, order["lines"][0]["id"]

    page.goto(link["url"])
    assert page.locator("#cod").inner_text() == "480.000 ₫"
    national = "0" + order["recipient"]["phones"][0].removeprefix("+84")  # as people write it: 0912 345 678
    shown = page.get_by_label("Số điện thoại", exact=True).input_value()
    assert shown.replace(" ", "") == national and len(shown.split()) == 3
    phone.shot("1-opened")

    page.get_by_label("Tỉnh / thành phố").select_option(str(HANOI))
    page.wait_for_selector(f'#ward option[value="{HOAN_KIEM}"]', state="attached")  # wards of Hà Nội, by script
    page.get_by_label("Phường / xã").select_option(str(HOAN_KIEM))
    page.get_by_label("Số nhà, tên đường").fill("5 Tràng Tiền")
    page.locator(f"#variant-{line}").select_option('["L","red"]')
    # the live preview, before any button: the dress in L (+30,000) and the courier's fee to Hà Nội (+20,000)
    expect(page.locator("#new-cod")).to_have_text("530.000 ₫")
    phone.shot("2-changed")

    page.get_by_role("button", name="Xem số tiền mới").click()
    page.wait_for_selector("#confirm-button")
    assert page.locator("#new-cod").inner_text() == "530.000 ₫"
    assert page.locator("#cod").inner_text() == "480.000 ₫"  # nothing saved yet
    phone.shot("3-preview")

    page.get_by_role("button", name="Xác nhận thay đổi").click()
    page.wait_for_selector("#notice")
    assert "Đã lưu thay đổi" in page.locator("#notice").inner_text()
    assert page.locator("#cod").inner_text() == "530.000 ₫"
    phone.shot("4-confirmed")

    saved = _synced(staff, order["id"])
    assert (saved["version"], saved["cod_amount"]) == (order["version"] + 1, 530000)
    assert saved["lines"][0]["size"] == "L" and saved["lines"][0]["unit_price"] == 480000
    assert saved["recipient"]["address"] == {
        **saved["recipient"]["address"],
        "line": "5 Tràng Tiền",
        "ward_code": HOAN_KIEM,
        "province_code": HANOI,
    }
    last = _ok(staff.get(f"/api/orders/{order['id']}/events"))[-1]
    assert last["type"] == "amended" and last["actor"]["kind"] == "customer"
    assert (last["cod_before"], last["cod_after"]) == (480000, 530000)
    parcel = _ok(staff.get(f"/sandbox-courier/shipments/{saved['shipment']['tracking_code']}"))
    assert parcel["cod_amount"] == 530000
    assert (parcel["address"]["ward_code"], parcel["address"]["line"]) == (HOAN_KIEM, "5 Tràng Tiền")
    assert [item.get("size") for item in parcel["items"]] == ["L"]
