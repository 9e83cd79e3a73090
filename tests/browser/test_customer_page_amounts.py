"""The customer's page in Chromium at 390 and 1366 px: the amounts now and after the change side by side, the
"₫" kept with its number, the confirm button next to the amount, and each wrong value marked on its own field.

SQLite only, like test_customer_page: the integration suite covers the same answers on every engine.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.chromium import ARTIFACTS
from tests.browser.conftest import Phone
from tests.browser.test_customer_page import _ok, _shipped_order
from tests.integration.api import order_payload
from tests.integration.links import DRESS_L

WIDTHS = {390: 844, 1366: 800}  # a phone, a laptop
# How far below the new amount the confirm button may start: the new address and one line of hint between.
CONFIRM_WITHIN_PX = 160


@pytest.fixture(params=sorted(WIDTHS))
def screen(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Phone]:
    width = request.param
    phone = width < 600
    context = chromium.new_context(
        viewport={"width": width, "height": WIDTHS[width]},
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale="vi-VN",
    )
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shown = Phone(context.new_page(), folder)
    yield shown
    context.close()
    assert not shown.errors, shown.errors


def _order_with_sizes(staff: httpx.Client) -> dict[str, Any]:
    """A dress in M, 100,000 ₫ paid in advance, after another order sold it in L: both sizes are offered."""
    _ok(staff.post("/api/orders", json=order_payload(lines=[DRESS_L])), 201)
    return _ok(staff.post("/api/orders", json=order_payload(prepaid=100000)), 201)


def _unwrapped(page: Any) -> list[str]:
    """The amounts whose text runs on more than one line (a "₫" pushed to the next one): none is expected."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('.money')].filter(e => e.offsetParent !== null).filter(e => {
                 const range = document.createRange(); range.selectNodeContents(e);
                 return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
               }).map(e => e.textContent)"""
        )
    )


def test_the_preview_shows_every_amount_beside_the_old_one_and_confirm_next_to_it(
    screen: Phone, staff: httpx.Client
) -> None:
    order = _order_with_sizes(staff)
    link = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)
    page, line, width = screen.page, order["lines"][0]["id"], page_width(screen)

    page.goto(link["url"])
    assert page.locator("#cod").inner_text() == "380.000 ₫"
    assert re.fullmatch(r"0\d{3} \d{3} \d{3}", page.locator("#phone1").input_value())  # as people write it
    assert "(giờ Việt Nam)" in page.locator("#expires").inner_text() and "UTC" not in page.content()
    assert page.locator("#amounts .after").first.is_hidden()  # no second column before a change
    screen.shot(f"1-opened-{width}")

    page.locator(f"#variant-{line}").select_option('["L","red"]')
    page.wait_for_selector("#amounts.compared")  # the live preview, before any button
    assert page.locator("#new-cod").inner_text() == "410.000 ₫"

    page.get_by_role("button", name="Xem số tiền mới").click()
    page.wait_for_selector("#confirm-button")
    rows = page.locator("#amounts tbody tr")
    shown = [[cell.strip() for cell in rows.nth(i).locator("th, td").all_inner_texts()] for i in range(rows.count())]
    assert shown == [
        ["Tiền hàng", "450.000 ₫", "480.000 ₫"],
        ["Phí giao hàng", "30.000 ₫", "30.000 ₫"],
        ["Đã trả trước", "−100.000 ₫", "−100.000 ₫"],
        ["Số tiền trả khi nhận hàng", "380.000 ₫", "410.000 ₫"],
    ]  # no "Giảm giá −0 ₫": a line zero on both sides is left out
    assert _unwrapped(page) == []
    assert page.locator("#new-cod").evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert page.evaluate("window.scrollY") == 0 and page.evaluate("document.documentElement.scrollWidth") <= width
    amount, confirm = page.locator("#new-cod").bounding_box(), page.locator("#confirm-button").bounding_box()
    assert amount is not None and confirm is not None
    gap = confirm["y"] - (amount["y"] + amount["height"])
    assert 0 <= gap <= CONFIRM_WITHIN_PX, gap  # right under the amount
    assert confirm["y"] + confirm["height"] <= WIDTHS[width], confirm  # seen without scrolling
    assert confirm["height"] >= 44  # a thumb's target
    screen.shot(f"2-preview-{width}")

    page.locator("#confirm-button").click()
    page.wait_for_selector("#notice")
    assert page.locator("#cod").inner_text() == "410.000 ₫"
    assert _ok(staff.get(f"/api/orders/{order['id']}"))["cod_amount"] == 410000


def test_a_wrong_second_phone_is_marked_on_that_field_only(screen: Phone, staff: httpx.Client) -> None:
    order = _ok(staff.post("/api/orders", json=order_payload()), 201)
    link = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)
    page, width = screen.page, page_width(screen)
    page.goto(link["url"])

    page.locator("#phone2").fill("0912 345")
    page.get_by_role("button", name="Xem số tiền mới").click()
    page.wait_for_selector("#err-phone2")
    assert page.locator("#err-phone2").inner_text() == "Số điện thoại khác: thiếu số"
    assert page.locator(".error").count() == 1
    assert page.eval_on_selector_all("[aria-invalid=true]", "es => es.map(e => e.id)") == ["phone2"]
    assert page.evaluate("document.activeElement.id") == "phone2"  # focused, so scrolled to
    error = page.locator("#err-phone2").bounding_box()
    assert error is not None and error["y"] >= 0 and error["y"] + error["height"] <= WIDTHS[width]
    screen.shot(f"1-wrong-phone-{width}")
    # The refused form comes back as a 422 page, which Chromium logs; that one is expected, nothing else is.
    assert all("status of 422" in e for e in screen.errors), screen.errors
    screen.errors.clear()

    page.goto(link["url"] + "?lang=en")
    page.locator("#phone2").fill("0912 345")
    page.get_by_role("button", name="See the new amount").click()
    page.wait_for_selector("#err-phone2")
    assert page.locator("#err-phone2").inner_text() == "Another phone: some digits are missing"
    screen.shot(f"2-wrong-phone-en-{width}")
    screen.errors.clear()

    page.goto(link["url"] + "?lang=vi")
    page.get_by_role("button", name="Huỷ đơn hàng").click()  # without ticking the box
    page.wait_for_selector("#err-really")
    box = page.locator("#err-really").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= WIDTHS[width]  # where the box is
    assert "Đánh dấu ô" in page.locator("#cancel #err-really").inner_text()
    screen.shot(f"3-cancel-unticked-{width}")
    assert all("status of 422" in e for e in screen.errors), screen.errors
    screen.errors.clear()


def page_width(screen: Phone) -> int:
    size = screen.page.viewport_size
    assert size is not None
    return int(size["width"])


def test_after_pickup_her_phones_and_the_time_read_as_she_writes_them(screen: Phone, staff: httpx.Client) -> None:
    order = _shipped_order(staff)
    link = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)
    tracking = order["shipment"]["tracking_code"]
    _ok(staff.post(f"/sandbox-courier/shipments/{tracking}/events", json={"status": "picked"}))
    deadline = time.monotonic() + 20
    while (moving := _ok(staff.get(f"/api/orders/{order['id']}")))["status"] != "in_transit":
        assert time.monotonic() < deadline, "the pickup never reached the order"
        time.sleep(0.1)
    page, width = screen.page, page_width(screen)

    page.goto(link["url"])
    phone = moving["recipient"]["phones"][0]
    shown = page.locator(".recipient .phone").first.inner_text()
    assert shown.replace(" ", "") == "0" + phone.removeprefix("+84") and len(shown.split()) == 3
    updated = datetime.datetime.fromisoformat(moving["updated_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert page.locator("#updated").inner_text() == f"Cập nhật lúc {updated:%H:%M %d/%m/%Y} (giờ Việt Nam)"
    assert "UTC" not in page.content() and _unwrapped(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screen.shot(f"1-after-pickup-{width}")
