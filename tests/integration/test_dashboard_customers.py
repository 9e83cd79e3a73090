"""Dashboard customers: search by name or phone, the profile with its chart, a profile merge previewed."""

from __future__ import annotations

import re

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping, random_mobile
from tests.integration.dashboard import Dashboard, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


async def test_search_by_name_or_phone_and_open_the_profile_with_its_chart(staff: Dashboard, api: Api) -> None:
    shipping = Shipping(api)
    order = await api.create_order()
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    phone = order["recipient"]["phones"][0]
    for q in ("nguyen thi lan", "0" + phone[3:]):
        found = await staff.get("/dashboard/customers", params={"q": q})
        assert found.status_code == 200 and f"/dashboard/customers/{order['customer_id']}" in found.text, q
    refused = await staff.get("/dashboard/customers", params={"q": "0123 456 789 000"})
    assert refused.status_code == 422
    profile = await staff.get(f"/dashboard/customers/{order['customer_id']}")
    assert profile.status_code == 200
    text = profile.text
    assert "Nguyễn Thị Lan" in text and order["code"] in text
    assert "Thân thiết" in text and "Còn 4.550.000 ₫ nữa để lên hạng Vàng" in text  # 5,000,000 - 450,000
    assert text.count('class="bar"') == 12 and "450.000 ₫" in text  # twelve months, this one with her spend
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', text)]
    assert heights[-1] > 0 and heights[:-1] == [0.0] * 11
    assert "+45" in text  # 45 points earned, in the ledger
    assert (await staff.get("/dashboard/customers/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_profile_merge_previews_then_moves_the_duplicate(staff: Dashboard, api: Api) -> None:
    first = await api.create_order()
    second = await api.create_order(customer={"full_name": "Lan Nguyễn", "phones": [random_mobile()]})
    into, duplicate = first["customer_id"], second["customer_id"]
    offer = await staff.get(f"/dashboard/customers/{into}/merge", params={"q": "lan"})
    assert offer.status_code == 200 and duplicate in offer.text
    preview = await staff.post(f"/dashboard/customers/{into}/merge", {"from": duplicate, "intent": "preview"})
    assert preview.status_code == 200 and "Sau khi gộp" in preview.text
    assert (await api.request("GET", f"/api/customers/{duplicate}")).json()["merged_into"] is None
    done = await staff.post(f"/dashboard/customers/{into}/merge", {"from": duplicate, "intent": "commit"})
    assert done.status_code == 303
    assert (await api.request("GET", f"/api/customers/{duplicate}")).json()["merged_into"] == into
    self_merge = await staff.post(f"/dashboard/customers/{into}/merge", {"from": into})
    assert self_merge.status_code == 422 and "Hồ sơ trùng thứ 1" in self_merge.text
