"""A staff member's day in the dashboard, clicked through in Chromium, with screenshots at two widths."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.dashboard.conftest import Site, sign_in
from tests.integration.api import HANOI, HOAN_KIEM, eventually
from tests.integration.dashboard import put_in_state

pytestmark = pytest.mark.anyio

SHIRT = {"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "blue", "unit_price": 380000, "quantity": 2}
TRYON = {
    "sku": "DRESS-07",
    "name": "Đầm thử",
    "quantity": 1,
    "tryon_options": [
        {"size": "M", "color": "red", "unit_price": 450000},
        {"size": "L", "color": "red", "unit_price": 420000},
    ],
}


async def test_sign_in_and_find_an_order_by_phone(site: Site) -> None:
    order = await site.create_order()
    await site.create_order()
    await site.open("/dashboard/login")
    await site.shoot("login")
    await sign_in(site)
    await site.shoot("orders")
    local = "0" + order["recipient"]["phones"][0][3:]
    await site.page.fill("input[name=q]", f"{local[:4]} {local[4:7]} {local[7:]}")
    await site.page.click("text=Lọc")
    rows = site.page.locator("#orders tbody tr")
    assert await rows.count() == 1
    await site.shoot("found")
    await site.page.click(f"text={order['code']}")
    await site.page.wait_for_selector("#timeline")
    assert "480.000 ₫" in await site.page.inner_text(".cod")
    await site.shoot("order")


async def test_amend_the_address_with_its_preview(site: Site) -> None:
    order = await site.create_order()
    await sign_in(site)
    await site.open(f"/dashboard/orders/{order['id']}")
    await site.page.click("text=Sửa đơn")
    await site.page.fill("input[name=line]", "5 Hàng Bài")
    await site.page.select_option("select[name=province_code]", str(HANOI))
    await site.page.wait_for_selector(f"#ward-select option[value='{HOAN_KIEM}']", state="attached")
    await site.page.select_option("#ward-select", str(HOAN_KIEM))
    await site.page.fill("input[name=fee]", "45000")
    await site.shoot("form")
    await site.page.click("text=Xem trước")
    await site.page.wait_for_selector("#preview")
    assert await site.page.inner_text("[data-field=cod_amount]") == "495.000 ₫"
    await site.shoot("preview")
    await site.page.click("text=Xác nhận thay đổi")
    await site.page.wait_for_selector("#timeline")
    after = await site.order(order["id"])
    assert after["recipient"]["address"]["ward_code"] == HOAN_KIEM and after["cod_amount"] == 495000
    await site.shoot("amended")


async def test_merge_two_orders(site: Site) -> None:
    first = await site.create_order(prepaid=100000)
    second = await site.create_order(customer_id=first["customer_id"], lines=[SHIRT])
    await sign_in(site)
    await site.open(f"/dashboard/orders/{first['id']}/merge")
    await site.page.check(f"#m-{second['id']}")
    await site.shoot("choose")
    await site.page.click("text=Xem trước")
    await site.page.wait_for_selector("#preview")
    assert await site.page.inner_text("[data-field=cod_amount]") == "1.140.000 ₫"
    await site.shoot("preview")
    await site.page.click("text=Xác nhận gộp")
    await site.page.wait_for_selector("#timeline")
    assert (await site.order(second["id"]))["status"] == "merged"
    await site.shoot("merged")


async def test_split_one_order(site: Site) -> None:
    order = await site.create_order(lines=[SHIRT])
    await sign_in(site)
    await site.open(f"/dashboard/orders/{order['id']}/split")
    await site.page.fill(f"input[name=take_{order['lines'][0]['id']}]", "1")
    await site.page.click("text=Xem trước")
    await site.page.wait_for_selector("#preview")
    assert await site.page.locator("#preview section").count() == 2
    await site.shoot("preview")
    await site.page.click("text=Xác nhận tách")
    await site.page.wait_for_selector("#timeline")
    assert (await site.order(order["id"]))["lines"][0]["quantity"] == 1
    await site.shoot("split")


async def test_resolve_a_needs_review_tryon(site: Site) -> None:
    order = await site.create_order(lines=[TRYON])
    await put_in_state(site.settings, order)
    await sign_in(site)
    await site.open("/dashboard/queues")
    await site.shoot("queues")
    await site.page.click("#needs-review a.button")
    await site.page.fill(f"input[name=kept_{order['lines'][0]['id']}_1]", "1")
    await site.shoot("review")
    await site.page.click("button:has-text('Xác nhận')")
    await site.page.wait_for_selector("#timeline")
    final = await site.order(order["id"])
    assert (final["status"], final["cod_amount"]) == ("delivered", 450000)
    await site.shoot("reviewed")


async def deliver(site: Site, order: dict[str, Any]) -> None:
    """Confirm, ship, and let the sandbox courier report the parcel delivered: she gets spend and points."""
    path = f"/api/orders/{order['id']}"
    assert (await site.api.post(f"{path}/confirm", headers={"If-Match": '"1"'})).status_code == 200
    assert (await site.api.post(f"{path}/ship", headers={"If-Match": '"2"'})).status_code == 200

    async def tracking() -> str | None:
        shipment = (await site.order(order["id"]))["shipment"]
        return shipment["tracking_code"] if shipment and shipment["sync_state"] == "synced" else None

    code = await eventually(tracking)
    reported = await site.api.post(f"/sandbox-courier/shipments/{code}/events", json={"status": "delivered"})
    assert reported.status_code == 200, reported.text


async def test_open_a_customer_profile_with_its_chart(site: Site) -> None:
    order = await site.create_order()
    await deliver(site, order)
    await sign_in(site)
    await site.open("/dashboard/customers")
    await site.page.fill("input[name=q]", "nguyen thi lan")
    await site.page.click("text=Tìm")
    await site.page.click("#customers >> text=Nguyễn Thị Lan")
    chart = site.page.locator("#spend-chart")
    await chart.wait_for()
    assert await chart.locator("rect.bar").count() == 12
    assert float(await chart.locator("rect.bar").last.get_attribute("height") or 0) > 0  # this month's spend
    assert "Còn 4.550.000 ₫ nữa để lên hạng Vàng" in await site.page.inner_text("#tier")
    assert order["code"] in await site.page.content()
    await site.shoot("profile")
