"""Return requests in the dashboard: listed on the order's page and in the open list from the nav, approved or
rejected by a form carrying the CSRF token; words in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orders_service.infra import clock
from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.test_return_requests import DAY, DELIVERED, ask, delivered_orders, dress, get, stock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_staff_approve_one_request_on_the_order_page_and_reject_one_from_the_list(
    api: Api, settings: Settings, client: httpx.AsyncClient
) -> None:
    with clock.pinned(DELIVERED):
        me, _, order = await delivered_orders(api)
    with clock.pinned(DELIVERED + DAY):
        first = (await ask(api, order, dress(1), reason="Chật quá")).json()
        shirt = {"sku": "RR-SHIRT", "size": "F", "color": "white", "quantity": 1}
        second = (await ask(api, order, shirt, reason="Không hợp màu")).json()
    staff = await signed_in(settings, client, "lan", "staff")

    shown = await staff.get(f"/dashboard/orders/{order['id']}")
    assert shown.status_code == 200
    card = shown.text.split('id="return-requests"')[1]
    assert "Chờ duyệt" in card and "Chật quá" in card and "Đầm suông (M / red) × 1" in card
    assert "360.000 ₫" in card  # the refund, less the dress's share of the discount
    assert f'action="/dashboard/return-requests/{first["id"]}/approve"' in card
    assert ">Trả hàng</a>" in shown.text  # the nav leads to the open list
    english = await staff.get(f"/dashboard/orders/{order['id']}", params={"lang": "en"})
    assert "Waiting for approval" in english.text and "Approve the return" in english.text
    await staff.get(f"/dashboard/orders/{order['id']}", params={"lang": "vi"})

    # Without the form's token nothing is decided.
    forged = await staff.post(f"/dashboard/return-requests/{first['id']}/approve", {}, csrf=False)
    assert forged.status_code == 403
    with clock.pinned(DELIVERED + 2 * DAY):
        approved = await staff.post(f"/dashboard/return-requests/{first['id']}/approve", {"back": "order"})
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/dashboard/orders/{order['id']}#return-{first['id']}"
    assert await stock(api, "RR-DRESS") == 4
    profile = await get(api, f"/api/customers/{me}/profile")
    assert profile["loyalty"]["lifetime_spend"] == 450_000 + 540_000

    listed = await staff.get("/dashboard/returns")
    assert listed.status_code == 200 and "(1)" in listed.text and "Không hợp màu" in listed.text
    assert first["id"] not in listed.text
    too_long = await staff.post(
        f"/dashboard/return-requests/{second['id']}/reject", {"back": "returns", "reason": "quá " * 200}
    )
    assert too_long.status_code == 422 and "Lý do: dài quá 500 ký tự" in too_long.text  # in words, nothing decided
    assert "Không hợp màu" in (await staff.get("/dashboard/returns")).text
    rejected = await staff.post(
        f"/dashboard/return-requests/{second['id']}/reject", {"back": "returns", "reason": "Áo đã qua sử dụng"}
    )
    assert rejected.status_code == 303 and rejected.headers["location"].startswith("/dashboard/returns#")
    again = await staff.post(f"/dashboard/return-requests/{second['id']}/approve", {"back": "returns"})
    assert again.status_code == 409 and "Không thực hiện được" in again.text  # a page in words, not JSON
    after = await staff.get(f"/dashboard/orders/{order['id']}")
    assert "Đã duyệt" in after.text and "Đã từ chối" in after.text and "Áo đã qua sử dụng" in after.text
    assert "Duyệt yêu cầu trả hàng" in after.text and "Khách yêu cầu trả hàng" not in after.text.split("Lịch sử")[0]
    assert await stock(api, "RR-SHIRT") == 4  # the rejected shirt stays sold
    assert "Không có yêu cầu nào đang chờ." in (await staff.get("/dashboard/returns")).text
