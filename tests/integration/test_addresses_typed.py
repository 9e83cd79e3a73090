"""Addresses typed the old way (CONTRACT.md): text and names, old units and 2025 ones, through every door."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api, order_payload
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.links import csrf_field, issue_link, order_with_sizes, page, token_of
from tests.integration.test_dashboard_actions import amend_form
from tests.integration.test_edit_page import form_of

pytestmark = pytest.mark.anyio

SAI_GON, THU_DAU_MOT, AN_KHANH = 26740, 25747, 27118  # 2025 wards of Thành phố Hồ Chí Minh (79)
BA_DINH, GIANG_VO, NGOC_HA = 4, 25, 8  # 2025 wards of Hà Nội (1)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def _with_address(address: dict[str, Any]) -> dict[str, Any]:
    payload = order_payload()
    payload["recipient"]["address"] = address
    return payload


@pytest.mark.parametrize(
    ("body", "ward", "line"),
    [
        ({"text": "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"}, SAI_GON, "12 Lê Lợi"),
        ({"text": "12 Le Loi, P Ben Nghe, Q1, HCM"}, SAI_GON, "12 Le Loi"),
        ({"text": "12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh"}, SAI_GON, "12 Lê Lợi"),
        ({"text": "3 Yersin, P. Phú Cường, TP. Thủ Dầu Một, Bình Dương"}, THU_DAU_MOT, "3 Yersin"),
        ({"line": "12 Trần Não", "ward": "Thảo Điền", "district": "TP Thủ Đức", "province": "HCM"}, AN_KHANH, None),
        ({"line": "12 Trần Não", "ward": "Phường An Khánh", "province": "Hồ Chí Minh"}, AN_KHANH, None),
    ],
)
async def test_resolve_takes_text_and_names_of_old_and_new_units(
    api: Api, body: dict[str, Any], ward: int, line: str | None
) -> None:
    response = await api.request("POST", "/api/addresses/resolve", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["ward_code"], got["province_code"]) == (ward, 79)
    assert got["line"] == (line or body["line"])
    assert got["input"] == body.get("text") or ", ".join(v for k, v in body.items() if k != "line")


async def test_a_split_ward_is_a_422_with_its_candidates(api: Api) -> None:
    response = await api.request("POST", "/api/addresses/resolve", json={"text": "1 Kim Mã, P. Kim Mã, Q. Ba Đình, HN"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "text"
    assert {c["ward_code"] for c in error["candidates"]} == {BA_DINH, GIANG_VO, NGOC_HA}
    assert all(c["province_code"] == 1 and c["name"].endswith("Thành phố Hà Nội") for c in error["candidates"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "12 Lê Lợi, Phường Không Có, Q.1, TP.HCM"}, "text"),
        ({"text": "12 Lê Lợi"}, "text"),
        ({"text": "P. Bến Nghé, Q.1, TP.HCM"}, "text"),
        ({"line": "1 A", "ward": "Bến Nghé", "province": "Atlantis"}, "province"),
        ({"line": "1 A", "ward": "Bến Nghé", "district": "Quận 99", "province": "HCM"}, "district"),
        ({"line": "1 A", "ward": "Bến Nghé"}, "province"),
        ({"ward": "Bến Nghé", "province": "HCM"}, "line"),
        ({"text": "x", "ward_code": 1, "province_code": 1}, ""),
        ({"line": "1 A", "ward_code": 26743, "province_code": 1}, "ward_code"),
        ({"text": 5}, "text"),
    ],
)
async def test_what_fits_no_ward_is_a_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.request("POST", "/api/addresses/resolve", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == (field or "body")


async def test_an_order_takes_text_and_keeps_what_was_typed(api: Api) -> None:
    typed = "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"
    created = await api.request("POST", "/api/orders", json=_with_address({"text": typed}))
    assert created.status_code == 201, created.text
    address = created.json()["recipient"]["address"]
    assert (address["line"], address["ward_code"], address["province_code"]) == ("12 Lê Lợi", SAI_GON, 79)
    assert address["input"] == typed and address["ward_name"] == "Phường Sài Gòn"
    again = (await api.request("GET", f"/api/orders/{created.json()['id']}")).json()
    assert again["recipient"]["address"]["input"] == typed


async def test_an_order_with_an_ambiguous_address_is_refused_and_not_created(api: Api) -> None:
    payload = _with_address({"text": "1 Kim Mã, P. Kim Mã, Q. Ba Đình, Hà Nội"})
    before = (await api.request("GET", "/api/orders")).json()["total"]
    response = await api.request("POST", "/api/orders", json=payload)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "recipient.address.text"
    assert len(error["candidates"]) == 3
    assert (await api.request("GET", "/api/orders")).json()["total"] == before


async def test_set_address_takes_names_and_text_and_refuses_naming_the_operation(api: Api) -> None:
    order = await api.create_order()
    assert order["recipient"]["address"]["input"] is None  # codes: nothing typed
    names = {"line": "5 Hàng Bài", "ward": "Hàng Bài", "district": "Hoàn Kiếm", "province": "Ha Noi"}
    refused = await api.amend(
        order,
        {"op": "set_recipient", "name": "Hoa"},
        {"op": "set_address", "address": {"text": "1 Kim Ma, P Kim Ma, Q Ba Dinh, HN"}},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "operations[1].address.text"
    unchanged = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (unchanged["version"], unchanged["recipient"]["name"]) == (order["version"], order["recipient"]["name"])
    preview = await api.amend(order, {"op": "set_address", "address": names}, dry_run=True)
    assert preview.status_code == 200, preview.text
    previewed = preview.json()["recipient"]["address"]
    assert previewed["province_code"] == 1 and previewed["ward_name"].startswith("Phường")
    assert previewed["input"] == "5 Hàng Bài, Hàng Bài, Hoàn Kiếm, Ha Noi"
    done = await api.amend(
        order, {"op": "set_address", "address": {"text": "9 Yersin, Phu Cuong, Thu Dau Mot, Binh Duong"}}
    )
    assert done.status_code == 200, done.text
    address = done.json()["recipient"]["address"]
    assert (address["ward_code"], address["line"]) == (THU_DAU_MOT, "9 Yersin")


async def test_the_resolver_is_in_the_openapi_schema(api: Api) -> None:
    schema = (await api.request("GET", "/schema/openapi.json")).json()
    operation = schema["paths"]["/api/addresses/resolve"]["post"]
    assert "422" in operation["responses"] or operation["responses"]
    assert "text" in str(schema["components"]["schemas"])


async def test_the_customer_page_takes_a_typed_address_and_shows_its_ward_before_saving(api: Api) -> None:
    order = await order_with_sizes(api)
    token = token_of(await issue_link(api, order))
    first = await page(api, token)
    assert 'id="address_text"' in first.text
    typed = "9 Yersin, P. Phú Cường, TP. Thủ Dầu Một, Bình Dương"
    form = form_of(order, csrf_field(first.text), address_text=typed)
    previewed = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert previewed.status_code == 200, previewed.text
    shown = html.unescape(previewed.text.split('id="new-address"')[1].split("</p>")[0])
    assert "9 Yersin, Phường Thủ Dầu Một, Thành phố Hồ Chí Minh" in shown
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1  # nothing saved yet
    digest = html.unescape(previewed.text.split('name="previewed" value="')[1].split('"')[0])
    saved = await page(api, token, method="POST", data={**form, "previewed": digest, "action": "confirm"})
    assert saved.status_code == 200 and "Đã lưu thay đổi" in saved.text
    address = (await api.request("GET", f"/api/orders/{order['id']}")).json()["recipient"]["address"]
    assert (address["ward_code"], address["line"], address["input"]) == (THU_DAU_MOT, "9 Yersin", typed)


async def test_the_customer_page_names_the_wards_a_split_ward_may_be(api: Api) -> None:
    order = await order_with_sizes(api)
    token = token_of(await issue_link(api, order))
    first = await page(api, token)
    form = form_of(order, csrf_field(first.text), address_text="1 Kim Mã, P. Kim Mã, Q. Ba Đình, HN")
    refused = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert 'id="err-address_text"' in refused.text and 'id="new-address"' not in refused.text
    error = html.unescape(refused.text.split('id="err-address_text"')[1].split("</p>")[0])
    assert all(name in error for name in ("Phường Ba Đình", "Phường Giảng Võ", "Phường Ngọc Hà"))
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1


async def test_the_dashboard_amend_form_takes_a_typed_address(
    api: Api, settings: Settings, client: httpx.AsyncClient
) -> None:
    staff = await signed_in(settings, client, "lan", "staff")
    order = await api.create_order()
    path = f"/dashboard/orders/{order['id']}/amend"
    assert 'name="address_text"' in (await staff.get(path)).text
    typed = "12 Le Loi, P Ben Nghe, Q1, HCM"
    form = amend_form(order, address_text=typed)
    preview = await staff.post(path, {**form, "intent": "preview"})
    assert preview.status_code == 200, preview.text
    shown = html.unescape(preview.text.split('id="preview-address">')[1].split("</p>")[0])
    assert shown == "12 Le Loi, Phường Sài Gòn, Thành phố Hồ Chí Minh"
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]
    committed = await staff.post(path, {**form, "intent": "commit"})
    assert committed.status_code == 303, committed.text
    address = (await api.request("GET", f"/api/orders/{order['id']}")).json()["recipient"]["address"]
    assert (address["ward_code"], address["input"]) == (SAI_GON, typed)
    split = await staff.post(path, {**amend_form(order, address_text="1 Kim Ma, P Kim Ma, Q Ba Dinh, HN")})
    assert split.status_code == 422 and "Phường Giảng Võ" in html.unescape(split.text)
