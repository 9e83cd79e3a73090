"""Staff create an order and a customer on the dashboard, through the API's own use cases: catalogue lines
priced by the catalogue, a line the catalogue does not sell at the shop's price, and every refusal shown on
its own field in words with nothing saved."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import BEN_THANH, HANOI, HCMC, HOAN_KIEM, Api, Shipping, random_mobile
from tests.integration.dashboard import Dashboard, signed_in
from tests.integration.test_dashboard_actions import amend_form
from tests.integration.test_loyalty import deliver

pytestmark = pytest.mark.anyio

DRESS = {
    "sku": "DRESS-01",
    "name": "Đầm hoa",
    "weight_g": 300,
    "variants": [
        {"size": "M", "color": "red", "price": 450000, "stock": 5},
        {"size": "L", "color": "red", "price": 470000, "stock": 1},
    ],
}


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


def new_order_form(phone: str, **changes: Any) -> dict[str, Any]:
    form = {
        "customer_name": "Trần Thị Mai",
        "customer_phones": phone,
        "line": "12 Lê Lợi",
        "province_code": str(HCMC),
        "ward_code": str(BEN_THANH),
        "item_0": "DRESS-01 · L · red",
        "qty_0": "1",
        "fee": "30000",
        "payer": "customer",
        "prepaid": "0",
    }
    return {**form, **changes}


def field_error(html: str, name: str) -> str:
    """The words shown under one field of the form ("" when it has none)."""
    found = re.search(rf'<span class="field-error" id="err-{name}" role="alert">([^<]*)</span>', html)
    return found.group(1) if found else ""


async def orders_of(api: Api, phone: str) -> list[dict[str, Any]]:
    response = await api.request("GET", "/api/orders", params={"phone": phone})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_create_an_order_from_the_catalogue_and_a_line_it_does_not_sell(staff: Dashboard, api: Api) -> None:
    assert (await api.request("POST", "/api/products", json=DRESS)).status_code == 201
    listed = await staff.get("/dashboard/orders")
    assert 'href="/dashboard/orders/new"' in listed.text
    empty = await staff.get("/dashboard/orders/new")
    assert empty.status_code == 200
    assert '<option value="DRESS-01 · L · red">Đầm hoa · 470.000 ₫ · 1</option>' in empty.text
    phone = random_mobile()
    form = new_order_form(
        phone,
        recipient_name="Trần Văn Bình",
        recipient_phones="",  # the customer's own
        other_sku_0="GIFT-BOX",
        other_name_0="Hộp quà",
        other_price_0="20000",
        other_qty_0="2",
        prepaid="100000",
        note="giao giờ hành chính",
        channel="facebook",
    )
    created = await staff.post("/dashboard/orders/new", form)
    assert created.status_code == 303, created.text
    [order] = await orders_of(api, phone)
    assert created.headers["location"] == f"/dashboard/orders/{order['id']}"
    lines = [(x["sku"], x.get("size"), x["unit_price"], x["quantity"]) for x in order["lines"]]
    assert lines == [("DRESS-01", "L", 470000, 1), ("GIFT-BOX", None, 20000, 2)]  # the catalogue's price
    assert order["recipient"]["name"] == "Trần Văn Bình" and order["recipient"]["phones"] == [f"+84{phone[1:]}"]
    assert (order["paid"], order["cod_amount"], order["note"]) == (
        100000,
        470000 + 40000 + 30000 - 100000,
        "giao giờ hành chính",
    )
    assert order["channel"] == "facebook"
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[0]["actor"] == {"kind": "staff", "id": "lan"}
    product = (await api.request("GET", "/api/products/DRESS-01")).json()
    assert [v["available"] for v in product["variants"]] == [5, 0]  # the L is held for her

    # The same phone again: the same customer, found, not a second profile.
    again = await staff.post("/dashboard/orders/new", new_order_form(phone, item_0="DRESS-01 · M · red"))
    assert again.status_code == 303, again.text
    both = await orders_of(api, phone)
    assert len(both) == 2 and {o["customer_id"] for o in both} == {order["customer_id"]}


async def test_bad_input_is_said_on_its_field_and_saves_nothing(staff: Dashboard, api: Api) -> None:
    assert (await api.request("POST", "/api/products", json=DRESS)).status_code == 201
    await staff.get("/dashboard/orders/new")
    phone = random_mobile()
    cases = [
        ({"customer_phones": ""}, "customer_phones", "chưa nhập số điện thoại"),
        ({"customer_phones": "12345"}, "customer_phones", "không phải số điện thoại"),
        ({"item_0": "NO-SUCH-SKU"}, "item_0", "không có mã hàng này trong danh mục"),
        ({"item_0": "DRESS-01 · XL · red"}, "item_0", "shop không có phân loại này"),
        ({"item_0": "", "qty_0": ""}, "item_0", "chọn ít nhất một sản phẩm"),
        ({"qty_0": "1000"}, "qty_0", "phải không quá 999"),
        ({"province_code": str(HANOI), "ward_code": str(BEN_THANH)}, "ward_code", "không thuộc tỉnh/thành phố đã chọn"),
        ({"ward_code": str(HOAN_KIEM)}, "ward_code", "không thuộc tỉnh/thành phố đã chọn"),
        ({"address_text": "12 Lê Lợi, Phường Không Có, TP.HCM"}, "address_text", ""),
        ({"fee": "-1"}, "fee", "phải từ 0 trở lên"),
        ({"province_code": "²"}, "province_code", "phải là số nguyên"),  # a digit that int() refuses
        ({"other_name_0": "Hộp quà", "other_sku_0": "GIFT-BOX"}, "other_price_0", ""),
    ]
    for change, field, words in cases:
        response = await staff.post("/dashboard/orders/new", new_order_form(phone, **change))
        assert response.status_code == 422, (change, response.status_code, response.text[:2000])
        said = field_error(response.text, field)
        assert said, (change, field, response.text[:3000])
        assert words in said, (change, said)
        assert not re.search(r"lines\[|recipient\.|Expected|\bNone\b", response.text), change  # no internals
        assert 'value="12 Lê Lợi"' in response.text  # what she typed stays on the form
    assert await orders_of(api, phone) == []  # nothing saved, not even the customer
    customers = (await api.request("GET", "/api/customers", params={"phone": phone})).json()
    assert customers["items"] == []
    product = (await api.request("GET", "/api/products/DRESS-01")).json()
    assert [v["available"] for v in product["variants"]] == [5, 1]

    english = await staff.post("/dashboard/orders/new?lang=en", new_order_form(phone, item_0="NO-SUCH-SKU"))
    assert english.status_code == 422 and field_error(english.text, "item_0") == "no such SKU in the catalogue"


async def test_create_a_customer_then_an_order_for_her_from_her_profile(staff: Dashboard, api: Api) -> None:
    listed = await staff.get("/dashboard/customers")
    assert 'href="/dashboard/customers/new"' in listed.text
    assert (await staff.get("/dashboard/customers/new")).status_code == 200
    phone = random_mobile()
    missing = await staff.post("/dashboard/customers/new", {"full_name": "Lê Thị Hoa", "phones": ""})
    assert missing.status_code == 422 and field_error(missing.text, "phones") == "chưa nhập"
    bad = await staff.post(
        "/dashboard/customers/new", {"full_name": "Lê Thị Hoa", "phones": phone, "birthday": "2999-01-01"}
    )
    assert bad.status_code == 422 and field_error(bad.text, "birthday") == "ngày sinh không thể ở tương lai"
    assert (await api.request("GET", "/api/customers", params={"phone": phone})).json()["items"] == []

    created = await staff.post(
        "/dashboard/customers/new", {"full_name": "Lê Thị Hoa", "phones": phone, "email": "hoa@example.vn"}
    )
    assert created.status_code == 303, created.text
    [customer] = (await api.request("GET", "/api/customers", params={"phone": phone})).json()["items"]
    assert created.headers["location"] == f"/dashboard/customers/{customer['id']}"
    assert customer["full_name"] == "Lê Thị Hoa" and customer["email"] == "hoa@example.vn"

    taken = await staff.post("/dashboard/customers/new", {"full_name": "Hoa", "phones": phone})
    assert taken.status_code == 409 and "đã thuộc về một khách hàng khác" in field_error(taken.text, "phones")
    assert f'href="/dashboard/customers/{customer["id"]}"' in taken.text  # her profile, one click away

    profile = await staff.get(f"/dashboard/customers/{customer['id']}")
    assert f'href="/dashboard/orders/new?customer_id={customer["id"]}"' in profile.text
    prefilled = await staff.get(f"/dashboard/orders/new?customer_id={customer['id']}")
    assert 'value="Lê Thị Hoa"' in prefilled.text and customer["phones"][0] in prefilled.text


async def test_amend_adds_a_catalogue_line_and_spends_her_points(staff: Dashboard, api: Api) -> None:
    assert (await api.request("POST", "/api/products", json=DRESS)).status_code == 201
    shipping = Shipping(api)
    first = await api.create_order()
    await deliver(api, shipping, first)  # 450,000 VND kept: 45 points
    order = await api.create_order(customer_id=first["customer_id"])  # 450,000 - 10% + 30,000
    path = f"/dashboard/orders/{order['id']}/amend"
    shown = await staff.get(path)
    assert "Khách có 45 điểm" in shown.text and '<option value="DRESS-01 · M · red">' in shown.text

    refused = [
        ({"points": "46"}, "khách chỉ có 45 điểm, không đủ 46"),
        ({"province_code": "²"}, "phải là số nguyên"),  # a digit that int() refuses: a 500 before
        ({"add_item": "NO-SUCH-SKU"}, "không có mã hàng này trong danh mục"),
        ({"add_item": "DRESS-01 · XL · red"}, "shop không có phân loại này"),
        ({"add_item": "DRESS-01 · L · red", "add_qty": "2"}, "không đủ hàng: shop chỉ còn 1"),
    ]
    for change, words in refused:
        response = await staff.post(path, {**amend_form(order, **change), "intent": "commit"})
        assert response.status_code in (409, 422), (change, response.status_code)
        assert words in response.text, (change, re.findall(r'role="alert">(.*?)</p>', response.text))
    unchanged = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (unchanged["version"], len(unchanged["lines"]), unchanged["paid"]) == (order["version"], 1, 0)

    form = amend_form(order, add_item="DRESS-01 · L · red", add_qty="1", points="20")
    preview = await staff.post(path, {**form, "intent": "preview"})
    assert preview.status_code == 200, preview.text
    assert 'name="add_item" value="DRESS-01 · L · red"' in preview.text  # carried to the commit
    committed = await staff.post(path, {**form, "intent": "commit"})
    assert committed.status_code == 303, committed.text
    after = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    added = after["lines"][-1]
    assert (added["sku"], added["size"], added["unit_price"], added["quantity"]) == ("DRESS-01", "L", 470000, 1)
    assert after["paid"] == 20000  # 20 points, 1,000 VND each
    profile = (await api.request("GET", f"/api/customers/{order['customer_id']}/profile")).json()
    assert profile["loyalty"]["points"] == 25


async def test_split_into_two_parts_one_to_a_new_recipient(staff: Dashboard, api: Api) -> None:
    shirt = {"sku": "SHIRT-02", "name": "Sơ mi", "unit_price": 200000, "quantity": 3}
    order = await api.create_order(lines=[shirt])
    line = order["lines"][0]["id"]
    path = f"/dashboard/orders/{order['id']}/split"
    shown = await staff.get(path)
    assert f'name="take1_{line}"' in shown.text and 'name="address_text_1"' in shown.text
    friend = random_mobile()
    form = {
        "version": "1",
        f"take_{line}": "1",
        f"take1_{line}": "1",
        "name_1": "Phạm Thu Hà",
        "phones_1": friend,
        "line_1": "5 Hàng Bài",
        "province_code_1": str(HANOI),
        "ward_code_1": str(HOAN_KIEM),
    }
    refused = [
        ({"phones_1": "12345"}, "phones_1", "không phải số điện thoại"),
        ({"ward_code_1": str(BEN_THANH)}, "ward_code_1", "không thuộc tỉnh/thành phố đã chọn"),
        ({"province_code_1": "²"}, "province_code_1", "phải là số nguyên"),
    ]
    for change, field, words in refused:
        response = await staff.post(path, {**form, **change, "intent": "commit"})
        assert response.status_code == 422, (change, response.status_code)
        assert words in field_error(response.text, field), (change, re.findall(r'role="alert">(.*?)<', response.text))
        assert 'value="Phạm Thu Hà"' in response.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1  # nothing saved

    preview = await staff.post(path, {**form, "intent": "preview"})
    assert preview.status_code == 200, preview.text
    assert preview.text.count("Đơn mới") >= 2 and "Phạm Thu Hà" in preview.text and "Phường Hoàn Kiếm" in preview.text
    done = await staff.post(path, {**form, "intent": "commit"})
    assert done.status_code == 303, done.text
    family = (await api.request("GET", "/api/orders", params={"customer_id": order["customer_id"]})).json()["items"]
    assert len(family) == 3
    by_name = {o["recipient"]["name"]: o for o in family if o["id"] != order["id"]}
    assert set(by_name) == {"Nguyễn Thị Lan", "Phạm Thu Hà"}
    gift = by_name["Phạm Thu Hà"]
    assert gift["recipient"]["phones"] == [f"+84{friend[1:]}"]
    assert gift["recipient"]["address"]["ward_code"] == HOAN_KIEM
    assert [o["lines"][0]["quantity"] for o in family] == [1, 1, 1] and all(o["split_from"] for o in by_name.values())
