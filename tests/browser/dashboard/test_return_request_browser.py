"""A partial return in Chromium: the customer asks back one of her two dresses on her page at 390 px, staff
approve it in the dashboard, and her page says so. Screenshots at 390 and 1366 px of each step."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page

from orders_service.returns.page import field_of
from tests.browser.chromium import ARTIFACTS
from tests.browser.dashboard.conftest import WIDTHS, Site, sign_in
from tests.browser.dashboard.test_dashboard_browser import deliver
from tests.integration.api import eventually

pytestmark = pytest.mark.anyio

DRESSES = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 2}


async def shoot(site: Site, page: Page, step: str) -> None:
    folder = ARTIFACTS / site.name
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=str(folder / f"{step}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})


async def test_she_asks_back_one_dress_and_staff_approve_it(site: Site, browser: Browser) -> None:
    order = await site.create_order(lines=[DRESSES])
    link = (await site.api.post(f"/api/orders/{order['id']}/edit-link")).json()
    await deliver(site, order)

    async def delivered() -> dict[str, Any] | None:
        now = await site.order(order["id"])
        return now if now["status"] == "delivered" else None

    await eventually(delivered)
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    customer = await context.new_page()
    errors: list[str] = []
    customer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    await customer.goto(link["url"])
    form = customer.locator("#return-form")
    await form.wait_for()
    field = field_of("DRESS-01", "M", "red")
    assert await customer.locator(f"#{field} option").count() == 3  # none, one or both dresses
    await customer.select_option(f"#{field}", "1")
    await customer.fill("#return_reason", "Hơi chật, xin trả một chiếc")
    assert await customer.evaluate("document.documentElement.scrollWidth") <= 390  # nothing off screen
    box = await customer.locator("#return-submit").bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb's target
    await shoot(site, customer, "1-customer-form")
    await customer.click("#return-submit")
    await customer.locator("#return-sent").wait_for()
    assert "Đang chờ cửa hàng duyệt" in await customer.inner_text("#return-requests")
    assert "Đầm hoa (M / red) × 1" in await customer.inner_text("#return-requests")
    await shoot(site, customer, "2-customer-sent")

    await sign_in(site)
    await site.page.click("header.top >> text=Trả hàng")
    await site.page.wait_for_url("**/dashboard/returns")
    assert "Hơi chật, xin trả một chiếc" in await site.page.inner_text("#return-requests")
    await site.shoot("3-staff-open-requests")
    await site.page.click(f"#return-requests >> text=Đơn {order['code']}")
    await site.page.wait_for_url(f"**/dashboard/orders/{order['id']}")
    card = site.page.locator("#return-requests")
    assert "405.000 ₫" not in await card.inner_text()  # no discount on her first order: the whole price back
    assert "450.000 ₫" in await card.inner_text()
    await site.shoot("4-staff-order")
    await card.locator("text=Duyệt trả hàng").click()
    await site.page.wait_for_url(f"**/dashboard/orders/{order['id']}#return-*")
    assert "Đã duyệt" in await site.page.inner_text("#return-requests")
    assert "Duyệt yêu cầu trả hàng" in await site.page.inner_text("#timeline")
    await site.shoot("5-staff-approved")

    await customer.goto(link["url"])
    shown = await customer.inner_text("#return-requests")
    assert "Cửa hàng đã đồng ý" in shown and "450.000 ₫" in shown
    # One dress is left with her: the form offers it still.
    assert await customer.locator(f"#{field} option").count() == 2
    await shoot(site, customer, "6-customer-approved")
    await customer.goto(link["url"] + "?lang=en")
    shown = await customer.inner_text("#return-requests")
    assert "Approved by the shop" in shown and "450,000 VND" in shown
    assert "Send the return request" in await customer.inner_text("#return-form")
    await shoot(site, customer, "7-customer-approved-en")
    await context.close()
    assert errors == [], errors
