"""The COD statements page in Chromium: reached from the nav, a mismatch first with why, and readable on a phone."""

from __future__ import annotations

import pytest

from tests.browser.dashboard.conftest import Site, sign_in
from tests.browser.dashboard.test_dashboard_browser import deliver

pytestmark = pytest.mark.anyio


async def test_a_statement_with_a_mismatch_from_the_nav(site: Site) -> None:
    order = await site.create_order()
    await deliver(site, order)
    tracking = (await site.order(order["id"]))["shipment"]["tracking_code"]
    rows = [
        {"tracking_code": "SBX-NOT-OURS", "cod_collected": 120000, "fee": 15000},
        {"tracking_code": tracking, "cod_collected": order["cod_amount"] - 30000, "fee": 15000},
    ]
    imported = await site.api.post("/api/cod-statements", json={"courier": "sandbox", "rows": rows})
    assert imported.status_code == 201, imported.text
    await sign_in(site)
    await site.page.click("nav >> text=Đối soát COD")
    await site.page.wait_for_selector("#statements")
    await site.shoot("cod")
    await site.page.click(f"a[href='/dashboard/cod/{imported.json()['id']}']")
    first = site.page.locator("#rows tbody tr.parcel").first
    await first.wait_for()
    assert await first.get_attribute("data-status") == "mismatch"  # mismatches first, whatever the file's order
    assert "ít hơn 30.000 ₫" in await site.page.locator("#rows tbody tr.why").first.inner_text()
    await site.shoot("statement")
    await site.page.set_viewport_size({"width": 390, "height": 844})
    # On a phone the page itself does not scroll sideways: wide tables scroll in their own box.
    assert await site.page.evaluate("document.documentElement.scrollWidth") <= 390
