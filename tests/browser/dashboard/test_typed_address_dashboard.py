"""Staff paste an address as the customer wrote it (old units, no accents) and see its 2025 ward before saving."""

from __future__ import annotations

import pytest

from tests.browser.dashboard.conftest import Site, sign_in

pytestmark = pytest.mark.anyio


async def test_amend_with_a_typed_old_address_and_its_preview(site: Site) -> None:
    order = await site.create_order()
    await sign_in(site)
    await site.open(f"/dashboard/orders/{order['id']}/amend")
    await site.page.fill("#address_text", "12 Tran Nao, P Thao Dien, TP Thu Duc, TPHCM")
    await site.shoot("typed")
    await site.page.click("text=Xem trước")
    await site.page.wait_for_selector("#preview-address")
    assert await site.page.inner_text("#preview-address") == "12 Tran Nao, Phường An Khánh, Thành phố Hồ Chí Minh"
    await site.shoot("preview")
    await site.page.click("text=Xác nhận thay đổi")
    await site.page.wait_for_selector("#timeline")
    after = await site.order(order["id"])
    assert after["recipient"]["address"]["ward_name"] == "Phường An Khánh"
    await site.shoot("amended")
