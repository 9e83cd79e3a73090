"""The customer's page in Vietnamese and in English, as her browser asks (Accept-Language) or as she switches, at
390 and 1366 px in headless Chromium: its words, a wrong phone's reason on that phone's field, the cancel box's
error in the box, all from the `public` catalogue. Screenshots: build/test-artifacts/<test>/<lang>-<width>-*.png.

SQLite only, like test_customer_page: tests/integration/test_customer_page_words.py walks every form with bad
input in both languages on every engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS
from tests.browser.conftest import Phone
from tests.browser.test_customer_page import _ok
from tests.integration.api import order_payload

WIDTHS = {390: 844, 1366: 900}
BROWSERS = {"vi": "vi-VN", "en": "en-US"}  # the browser's language: its Accept-Language
WORDS = {
    "vi": {
        "title": "Đơn hàng",
        "phone2": "Số điện thoại khác: thiếu số",
        "cancel": "Đánh dấu ô “Tôi muốn huỷ đơn hàng này” rồi bấm Huỷ đơn hàng.",
        "preview": "Xem số tiền mới",
        "cancel_button": "Huỷ đơn hàng",
        "switch": "English",
    },
    "en": {
        "title": "Order",
        "phone2": "Another phone: some digits are missing",
        "cancel": "Tick “I want to cancel this order”, then press Cancel the order.",
        "preview": "See the new amount",
        "cancel_button": "Cancel the order",
        "switch": "Tiếng Việt",
    },
}


@pytest.fixture
def screens(chromium: Any, request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, int], Phone]]:
    """A browser per language and width, each failing the test on a console error."""
    opened, contexts = {}, []
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    for lang, locale in BROWSERS.items():
        for width, height in WIDTHS.items():
            small = width < 600
            context = chromium.new_context(
                viewport={"width": width, "height": height}, is_mobile=small, has_touch=small, locale=locale
            )
            contexts.append(context)
            opened[lang, width] = Phone(context.new_page(), folder)
    yield opened
    for context in contexts:
        context.close()
    # A refused form is answered 422 (the page with the reason), which Chromium logs as a failed load.
    refused = "the server responded with a status of 422"
    assert not [e for screen in opened.values() for e in screen.errors if refused not in e]


def test_her_page_speaks_her_browsers_language_with_each_error_on_its_field(
    screens: dict[tuple[str, int], Phone], staff: httpx.Client
) -> None:
    order = _ok(staff.post("/api/orders", json=order_payload()), 201)
    url = _ok(staff.post(f"/api/orders/{order['id']}/edit-link"), 201)["url"]
    for (lang, width), screen in screens.items():
        page, words, at = screen.page, WORDS[lang], f"{lang}-{width}"
        response = page.goto(url)  # no ?lang=: the browser's Accept-Language chooses
        assert response is not None and response.status == 200
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").inner_text() == f"{words['title']} {order['code']}"
        expect(page.locator("#preview-button")).to_have_text(words["preview"])
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing off screen
        screen.shot(f"{at}-1-opened")

        page.locator("#phone2").fill("0912 345")
        page.locator("#preview-button").click()
        page.wait_for_load_state()
        expect(page.locator("#err-phone2")).to_have_text(words["phone2"])
        assert page.locator("#phone2").get_attribute("aria-invalid") == "true"
        assert page.locator("#name").get_attribute("aria-invalid") is None  # the other fields stay unmarked
        assert page.locator("#phone2").evaluate("e => e === document.activeElement")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screen.shot(f"{at}-2-wrong-phone")

        page.locator("#cancel button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("#cancel #err-really")).to_have_text(words["cancel"])
        expect(page.locator("#cancel button[type=submit]")).to_have_text(words["cancel_button"])
        screen.shot(f"{at}-3-cancel-not-ticked")

        switch = page.locator("a.lang")
        expect(switch).to_have_text(words["switch"])
        switch.click()
        page.wait_for_load_state()
        other = "en" if lang == "vi" else "vi"
        assert page.locator("html").get_attribute("lang") == other  # and remembered for her next visit
        assert page.locator("h1").inner_text() == f"{WORDS[other]['title']} {order['code']}"
        screen.shot(f"{at}-4-switched-to-{other}")
    assert _ok(staff.get(f"/api/orders/{order['id']}"))["status"] == "pending"
