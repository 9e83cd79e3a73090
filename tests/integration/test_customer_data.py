"""Customers' own data (Decree 13/2023) through HTTP: staff correct a profile, she gets everything held about her,
and an admin erases her everywhere while the money stays."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import BEN_THANH, HCMC, Api, Shipping, random_mobile
from tests.integration.dashboard import Dashboard, make_user, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


async def customer_of(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    response = await api.request("GET", f"/api/customers/{order['customer_id']}")
    assert response.status_code == 200, response.text
    return response.json()


async def patch(api: Api, customer_id: str, body: Any, key: str = "staff") -> httpx.Response:
    return await api.request("PATCH", f"/api/customers/{customer_id}", json=body, key=key)


async def test_patch_changes_what_is_given_and_clears_what_is_null(api: Api) -> None:
    order = await api.create_order(customer={"full_name": "Trần Thị Mai", "phones": [random_mobile()]})
    cid = order["customer_id"]
    response = await patch(
        api, cid, {"full_name": "Trần Mai", "email": "Mai@Example.com", "birthday": "1990-04-02", "note": "khách quen"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["full_name"], body["email"], body["birthday"], body["note"]) == (
        "Trần Mai",
        "mai@example.com",
        "1990-04-02",
        "khách quen",
    )
    assert {"kind": "email", "value": "mai@example.com"} in body["identities"]
    # Left out stays; null clears; the email identity moves with the email.
    body = (await patch(api, cid, {"email": "mai.tran@example.com", "note": None, "tags": ["vip", "vip"]})).json()
    assert (body["full_name"], body["birthday"], body["note"], body["tags"]) == (
        "Trần Mai",
        "1990-04-02",
        None,
        ["vip"],
    )
    assert [i for i in body["identities"] if i["kind"] == "email"] == [
        {"kind": "email", "value": "mai.tran@example.com"}
    ]
    found = (await api.request("GET", "/api/customers", params={"q": "tran mai"})).json()
    assert cid in [c["id"] for c in found["items"]]


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"birthday": "2999-01-01"}, "birthday", 422),
        ({"phones": ["0912345678"]}, "phones", 422),
        ({"full_name": ""}, "full_name", 422),
        ({"full_name": None}, "full_name", 422),
        ({"gender": "robot"}, "gender", 422),
        ({"email": "not an email"}, "email", 422),
        ({"note": "a\x00b"}, "note", 422),
    ],
)
async def test_a_bad_patch_names_the_field_and_changes_nothing(
    api: Api, body: dict[str, Any], field: str, status: int
) -> None:
    order = await api.create_order()
    before = await customer_of(api, order)
    response = await patch(api, order["customer_id"], body)
    assert response.status_code == status, response.text
    problem = response.json()
    assert any(field in e["field"] for e in problem.get("errors", [])) or field in problem["detail"], problem
    assert await customer_of(api, order) == before


async def test_an_email_of_another_profile_is_a_409_and_unknown_customers_404(api: Api) -> None:
    first = await api.create_order(customer={"full_name": "A", "phones": [random_mobile()], "email": "a1@example.com"})
    second = await api.create_order()
    response = await patch(api, second["customer_id"], {"email": "a1@example.com"})
    assert response.status_code == 409, response.text
    assert response.json()["customer_id"] == first["customer_id"]
    response = await patch(api, "01937000-0000-7000-8000-000000000000", {"note": "x"})
    assert response.status_code == 404


async def test_export_holds_everything_about_her_and_is_audited(api: Api, shipping: Shipping) -> None:
    phone = random_mobile()
    order = await api.create_order(customer={"full_name": "Lê Thu", "phones": [phone]})
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    response = await api.request("GET", f"/api/customers/{order['customer_id']}/export")
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    assert document["customer"]["full_name"] == "Lê Thu"
    assert document["customer"]["phones"] == ["+84" + phone[1:]]
    [exported] = document["orders"]
    assert exported["code"] == order["code"] and exported["recipient_name"] == order["recipient"]["name"]
    assert exported["lines"] and exported["events"] and exported["shipment"]["tracking_code"]
    assert sum(e["points"] for e in document["points_ledger"]) > 0
    assert "search_name" not in document["customer"]
    again = (await api.request("GET", f"/api/customers/{order['customer_id']}/export")).json()
    assert [(a["action"], a["actor"]) for a in again["audit"]] == [("export", "test-staff")]


async def test_erase_replaces_her_everywhere_and_keeps_the_money(api: Api, shipping: Shipping) -> None:
    phone, name = random_mobile(), "Phạm Thị Hồng Nhung"
    line = "88 Nguyễn Huệ, tầng 3"
    order = await api.create_order(
        customer={"full_name": name, "phones": [phone], "email": "nhung.pham@example.com"},
        recipient={
            "name": name,
            "phones": [phone],
            "address": {"line": line, "ward_code": BEN_THANH, "province_code": HCMC},
        },
        note="gọi trước 0912 000 111",
    )
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    cid = order["customer_id"]
    profile_before = (await api.request("GET", f"/api/customers/{cid}/profile")).json()
    order_before = await shipping.order(order["id"])
    events_before = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()

    assert (await api.request("POST", f"/api/customers/{cid}/erase")).status_code == 403  # staff may not
    response = await api.request("POST", f"/api/customers/{cid}/erase", key="admin")
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["profiles"], result["orders"]) == (1, 1)

    customer = await customer_of(api, order)
    assert customer["full_name"] != name and customer["phones"] == [] and customer["email"] is None
    assert customer["erased_at"] is not None
    after = await shipping.order(order["id"])
    for money in ("subtotal", "total", "cod_amount", "paid", "refund_due"):
        assert after[money] == order_before[money], money
    assert after["status"] == "delivered" and after["version"] == order_before["version"]
    events_after = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert [(e["seq"], e["cod_after"]) for e in events_after] == [(e["seq"], e["cod_after"]) for e in events_before]
    profile_after = (await api.request("GET", f"/api/customers/{cid}/profile")).json()
    assert profile_after["stats"] == profile_before["stats"]
    assert profile_after["loyalty"] == profile_before["loyalty"]

    # Nothing of hers is left in anything the API shows, nor in her export.
    export = (await api.request("GET", f"/api/customers/{cid}/export")).text
    shown = json.dumps([customer, after, events_after, profile_after], ensure_ascii=False) + export
    for trace in (
        name,
        phone,
        "+84" + phone[1:],
        "nhung.pham@example.com",
        "0912 000 111",
        line,
    ):
        assert trace not in shown, trace
    found = (await api.request("GET", "/api/customers", params={"phone": phone})).json()
    assert found["total"] == 0
    # She may come back: her phone makes a new profile; a second erasure answers the first.
    again = await api.create_order(customer={"full_name": name, "phones": [phone]})
    assert again["customer_id"] != cid
    second = await api.request("POST", f"/api/customers/{cid}/erase", key="admin")
    assert second.status_code == 200 and second.json() == result
    assert (await patch(api, cid, {"note": "x"})).status_code == 409


async def test_erase_waits_for_open_orders_and_parcels_with_the_courier(api: Api, shipping: Shipping) -> None:
    order = await api.create_order()
    cid = order["customer_id"]
    response = await api.request("POST", f"/api/customers/{cid}/erase", key="admin")
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"].endswith("/erasure-blocked")
    assert [c["order_id"] for c in problem["conflicts"]] == [order["id"]]
    assert "still open" in problem["conflicts"][0]["reason"]
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "picked")
    response = await api.request("POST", f"/api/customers/{cid}/erase", key="admin")
    assert response.status_code == 409 and "courier's hands" in response.json()["conflicts"][0]["reason"]
    assert (await customer_of(api, order))["erased_at"] is None
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    assert (await api.request("POST", f"/api/customers/{cid}/erase", key="admin")).status_code == 200


async def test_the_dashboard_still_shows_an_erased_customers_order(
    api: Api, shipping: Shipping, settings: Settings, client: httpx.AsyncClient
) -> None:
    order = await api.create_order(customer={"full_name": "Đỗ Hà", "phones": [random_mobile()]})
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    assert (await api.request("POST", f"/api/customers/{order['customer_id']}/erase", key="admin")).status_code == 200
    staff = await signed_in(settings, client, "lan", "staff")
    for path in (f"/dashboard/orders/{order['id']}", f"/dashboard/customers/{order['customer_id']}"):
        page = await staff.get(path)
        assert page.status_code == 200, page.text
        assert "Đỗ Hà" not in page.text


async def test_staff_correct_a_profile_on_the_dashboard_and_admins_alone_erase_it(
    api: Api, shipping: Shipping, settings: Settings, client: httpx.AsyncClient
) -> None:
    order = await api.create_order(customer={"full_name": "Vũ Lan Anh", "phones": [random_mobile()]})
    cid = order["customer_id"]
    staff = await signed_in(settings, client, "thu", "staff")
    assert (await staff.get(f"/dashboard/customers/{cid}/edit")).status_code == 200
    form = {"full_name": "Vũ Lan Anh", "email": "", "birthday": "2999-01-01", "gender": "", "tags": "", "note": ""}
    refused = await staff.post(f"/dashboard/customers/{cid}/edit", form)
    assert refused.status_code == 422 and "birthday" in refused.text
    saved = await staff.post(f"/dashboard/customers/{cid}/edit", {**form, "birthday": "1995-05-05", "tags": "vip, sỉ"})
    assert saved.status_code == 303, saved.text
    assert (await customer_of(api, order))["tags"] == ["vip", "sỉ"]
    download = await staff.get(f"/dashboard/customers/{cid}/export")
    assert download.status_code == 200 and download.json()["customer"]["birthday"] == "1995-05-05"
    assert (await staff.get(f"/dashboard/customers/{cid}/erase")).status_code == 403
    assert (await staff.post(f"/dashboard/customers/{cid}/erase", {"confirm": "XOÁ"})).status_code == 403

    admin = Dashboard(client)
    await make_user(settings, "chi", "admin")
    assert (await admin.login("chi")).status_code == 303
    assert (await admin.get(f"/dashboard/customers/{cid}/erase")).status_code == 200
    unconfirmed = await admin.post(f"/dashboard/customers/{cid}/erase", {"confirm": "ok"})
    assert unconfirmed.status_code == 422 and (await customer_of(api, order))["erased_at"] is None
    blocked = await admin.post(f"/dashboard/customers/{cid}/erase", {"confirm": "xoá"})
    assert blocked.status_code == 409 and f"/dashboard/orders/{order['id']}" in blocked.text
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    erased = await admin.post(f"/dashboard/customers/{cid}/erase", {"confirm": "XOÁ"})
    assert erased.status_code == 303, erased.text
    profile = await admin.get(f"/dashboard/customers/{cid}")
    assert profile.status_code == 200 and "Vũ Lan Anh" not in profile.text and "Đã xoá dữ liệu" in profile.text
    export = (await api.request("GET", f"/api/customers/{cid}/export")).json()
    assert [a["action"] for a in export["audit"]] == ["update", "export", "erase"]
    assert [a["actor"] for a in export["audit"]] == ["thu", "thu", "chi"]
