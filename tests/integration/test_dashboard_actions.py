"""Dashboard actions on one order: previewed, then committed with the version staff saw."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import HANOI, HOAN_KIEM, Api, eventually
from tests.integration.dashboard import Dashboard, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


def amend_form(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    address = order["recipient"]["address"]
    form = {
        "version": str(order["version"]),
        "name": order["recipient"]["name"],
        "phones": "\n".join(order["recipient"]["phones"]),
        "line": address["line"],
        "province_code": str(address["province_code"]),
        "ward_code": str(address["ward_code"]),
        "fee": str(order["shipping"]["fee"]),
        "payer": order["shipping"]["payer"],
        **{f"qty_{line['id']}": str(line["quantity"]) for line in order["lines"]},
    }
    return {**form, **changes}


async def test_amend_the_address_with_a_preview_then_commit(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    assert (await staff.get(f"/dashboard/orders/{order['id']}/amend")).status_code == 200
    form = amend_form(
        order, line="5 Hàng Bài", province_code=str(HANOI), ward_code=str(HOAN_KIEM), fee="45000", reason="gửi bạn"
    )
    preview = await staff.post(f"/dashboard/orders/{order['id']}/amend", {**form, "intent": "preview"})
    assert preview.status_code == 200, preview.text
    assert "Xem trước" in preview.text and "5 Hàng Bài" in preview.text
    assert "495.000 ₫" in preview.text  # the new COD: 450.000 + 45.000
    unchanged = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert unchanged["version"] == order["version"]  # a preview saves nothing

    committed = await staff.post(f"/dashboard/orders/{order['id']}/amend", {**form, "intent": "commit"})
    assert committed.status_code == 303, committed.text
    after = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert after["recipient"]["address"]["ward_code"] == HOAN_KIEM and after["cod_amount"] == 495000
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["actor"] == {"kind": "staff", "id": "lan"} and events[-1]["reason"] == "gửi bạn"

    stale = await staff.post(f"/dashboard/orders/{order['id']}/amend", {**form, "line": "7 Lý Thái Tổ"})
    assert stale.status_code == 412 and "Đơn vừa được thay đổi ở nơi khác" in stale.text
    # A version that smuggles `*` into If-Match does not turn the lock off either.
    smuggled = {**form, "line": "7 Lý Thái Tổ", "version": '", *, "', "intent": "commit"}
    anything = await staff.post(f"/dashboard/orders/{order['id']}/amend", smuggled)
    assert anything.status_code == 428, anything.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == after["version"]


async def test_bad_input_is_named_on_the_form_and_changes_nothing(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    path = f"/dashboard/orders/{order['id']}/amend"
    cases = [
        ({"ward_code": str(HOAN_KIEM)}, "ward"),  # a ward outside the province
        ({"phones": "12345"}, "phone"),
        ({"fee": "-1"}, "fee"),
        ({"fee": "nhiều"}, "fee"),
        ({}, "chưa thay đổi gì"),
    ]
    for change, named in cases:
        response = await staff.post(path, {**amend_form(order, **change), "intent": "commit"})
        assert response.status_code == 422, (change, response.status_code)
        assert named in response.text, change
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]


async def test_confirm_ship_and_cancel_from_their_pages(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    base = f"/dashboard/orders/{order['id']}"
    confirm_page = await staff.get(f"{base}/confirm")
    assert confirm_page.status_code == 200 and "480.000 ₫" in confirm_page.text  # the COD, shown before
    assert (await staff.post(f"{base}/confirm", {"version": "1"})).status_code == 303
    assert (await staff.post(f"{base}/ship", {"version": "2"})).status_code == 303
    shipped = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert shipped["status"] == "ready_to_ship" and shipped["shipment"] is not None
    again = await staff.post(f"{base}/confirm", {"version": "3"})
    assert again.status_code == 409
    cancelled = await staff.post(f"{base}/cancel", {"version": "3", "reason": "khách huỷ"})
    assert cancelled.status_code == 303

    async def done() -> bool:  # the courier holds a parcel: the cancel is done once it confirmed
        return bool((await api.request("GET", f"/api/orders/{order['id']}")).json()["status"] == "cancelled")

    await eventually(done)


async def test_ward_options_follow_the_province(staff: Dashboard) -> None:
    options = await staff.get("/dashboard/geo/wards", params={"province_code": str(HANOI)})
    assert options.status_code == 200 and f'value="{HOAN_KIEM}"' in options.text
    assert (await staff.get("/dashboard/geo/wards", params={"province_code": "x"})).status_code == 400


SHIRT = {"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "blue", "unit_price": 380000, "quantity": 2}


async def test_merge_offers_her_other_orders_previews_then_commits(staff: Dashboard, api: Api) -> None:
    first = await api.create_order(prepaid=100000)
    second = await api.create_order(customer_id=first["customer_id"], lines=[SHIRT])
    stranger = await api.create_order()
    offer = await staff.get(f"/dashboard/orders/{first['id']}/merge")
    assert offer.status_code == 200 and second["code"] in offer.text and stranger["code"] not in offer.text
    form = {"version": "1", "order_ids": second["id"], f"v_{second['id']}": "1"}
    preview = await staff.post(f"/dashboard/orders/{first['id']}/merge", {**form, "intent": "preview"})
    assert preview.status_code == 200 and "Đơn sau khi gộp" in preview.text
    assert "1.140.000 ₫" in preview.text  # 450.000 + 2 x 380.000 + 30.000 - 100.000: one fee
    assert (await api.request("GET", f"/api/orders/{second['id']}")).json()["status"] == "pending"
    stale = await staff.post(f"/dashboard/orders/{first['id']}/merge", {**form, f"v_{second['id']}": "0"})
    assert stale.status_code == 409 and "Không gộp hoặc tách được các đơn này" in stale.text
    done = await staff.post(f"/dashboard/orders/{first['id']}/merge", {**form, "intent": "commit"})
    assert done.status_code == 303
    assert (await api.request("GET", f"/api/orders/{second['id']}")).json()["status"] == "merged"
    survivor = (await api.request("GET", f"/api/orders/{first['id']}")).json()
    assert survivor["cod_amount"] == 1140000
    nothing = await staff.post(f"/dashboard/orders/{first['id']}/merge", {"version": "2"})
    assert nothing.status_code == 422 and "Đơn cần gộp" in nothing.text


async def test_split_moves_the_late_item_to_a_new_order(staff: Dashboard, api: Api) -> None:
    order = await api.create_order(lines=[SHIRT], prepaid=100000)
    line = order["lines"][0]["id"]
    form = {"version": "1", f"take_{line}": "1"}
    preview = await staff.post(f"/dashboard/orders/{order['id']}/split", {**form, "intent": "preview"})
    assert preview.status_code == 200 and "Đơn mới" in preview.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1
    done = await staff.post(f"/dashboard/orders/{order['id']}/split", {**form, "intent": "commit"})
    assert done.status_code == 303
    original = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert original["lines"][0]["quantity"] == 1
    parts = await api.request("GET", "/api/orders", params={"customer_id": order["customer_id"]})
    assert parts.json()["total"] == 2
    assert sum(o["paid"] for o in parts.json()["items"]) == 100000  # not a đồng created or lost
    too_many = await staff.post(f"/dashboard/orders/{order['id']}/split", {"version": "2", f"take_{line}": "5"})
    assert too_many.status_code == 422


async def test_send_the_edit_link_shows_it_once_and_the_customer_can_open_it(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    base = f"/dashboard/orders/{order['id']}"
    assert "Gửi link sửa đơn" in (await staff.get(base)).text
    assert (await staff.get(f"{base}/edit-link")).status_code == 200
    sent = await staff.post(f"{base}/edit-link")
    assert sent.status_code == 200, sent.text
    url = sent.text.split('id="edit-link-url" readonly value="', 1)[1].split('"', 1)[0]
    assert "/o/" in url
    opened = await api.client.get("/o/" + url.split("/o/", 1)[1])
    assert opened.status_code == 200 and order["code"] in opened.text
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["type"] == "edit_link_created" and events[-1]["actor"]["id"] == "lan"
    cancelled = await api.request("POST", f"/api/orders/{order['id']}/cancel", headers={"If-Match": '"1"'})
    assert cancelled.status_code == 200
    refused = await staff.post(f"{base}/edit-link")
    assert refused.status_code == 409 and "Đơn đang ở trạng thái Đã huỷ" in refused.text


async def test_phones_read_as_people_write_them(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    e164 = order["recipient"]["phones"][0]  # a mobile: +84 and nine digits
    written = f"0{e164[3:6]} {e164[6:9]} {e164[9:]}"  # 0901 234 567
    page = (await staff.get(f"/dashboard/orders/{order['id']}")).text
    assert f'<a href="tel:{e164}">{written}</a>' in page  # dialled as stored, read as written
    preview = await staff.post(
        f"/dashboard/orders/{order['id']}/amend", {**amend_form(order, name="Trần Lan"), "intent": "preview"}
    )
    assert f"Trần Lan</strong> · {written}" in preview.text
    customers = (await staff.get("/dashboard/customers")).text
    assert written in customers and e164 not in customers
