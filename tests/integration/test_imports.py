"""Imports through HTTP on SQLite and PostgreSQL: each sample file's rows, profiles merged by phone, 4xx problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from orders_service.imports.schemas import ImportReport
from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def upload(api: Api, kind: str, name: str, *, multipart: bool = False, **params: str) -> dict[str, Any]:
    data = (SAMPLES / name).read_bytes()
    if multipart:
        response = await api.request("POST", f"/api/{kind}/import", files={"file": (name, data)}, params=params)
    else:
        headers = {"Content-Type": "text/csv"}
        response = await api.request("POST", f"/api/{kind}/import", content=data, headers=headers, params=params)
    assert response.status_code == 200, response.text
    msgspec.json.decode(response.content, type=ImportReport)  # the stream is the documented shape
    return response.json()


async def post_csv(api: Api, kind: str, text: str, **params: str) -> httpx.Response:
    headers = {"Content-Type": "text/csv"}
    return await api.request("POST", f"/api/{kind}/import", content=text.encode(), headers=headers, params=params)


def by_line(report: dict[str, Any]) -> dict[int, tuple[str, str | None]]:
    return {row["line"]: (row["status"], row.get("field")) for row in report["rows"]}


async def customer_by_phone(api: Api, phone: str) -> dict[str, Any]:
    found = await api.request("GET", "/api/customers", params={"phone": phone})
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 1, found.json()
    return found.json()["items"][0]


async def test_customers_from_every_platform_merge_into_one_profile_by_phone(api: Api) -> None:
    ours = await upload(api, "customers", "customers_ours.csv")
    assert ours["format"] == "ours"
    assert by_line(ours) == {
        2: ("created", None),
        3: ("created", None),
        4: ("created", None),
        5: ("updated", None),  # 0901-234-567 is Lan's: her profile gains Bình's email, not a second profile
        6: ("error", "phones"),
        7: ("error", "birthday"),
    }
    assert ours["totals"] == {"rows": 6, "created": 3, "updated": 1, "unchanged": 0, "skipped": 0, "errors": 2}
    lan = await customer_by_phone(api, "+84901234567")
    assert lan["full_name"] == "Nguyễn Thị Lan" and lan["birthday"] == "1990-03-05"
    assert lan["phones"] == ["+84901234567", "+84912345678"]
    assert lan["tags"] == ["vip", "zalo", "đã mua"]
    assert lan["email"] == "lan@example.vn"
    assert {"kind": "email", "value": "binh@example.vn"} in lan["identities"]

    sapo = await upload(api, "customers", "customers_sapo.csv", multipart=True)
    assert sapo["format"] == "sapo"
    assert by_line(sapo) == {2: ("updated", None), 3: ("created", None), 4: ("error", "Phone(Liên hệ)")}
    assert "VIP" in (await customer_by_phone(api, "0901 234 567"))["tags"]
    nam = await customer_by_phone(api, "0977000111")
    assert (nam["full_name"], nam["gender"], nam["source"]) == ("Võ Hoài Nam", "male", "pos")

    kiotviet = await upload(api, "customers", "customers_kiotviet.csv")
    assert kiotviet["format"] == "kiotviet"
    assert by_line(kiotviet) == {2: ("updated", None), 3: ("created", None), 4: ("error", "Điện thoại")}
    lan = await customer_by_phone(api, "0933444555")  # her second phone in KiotViet's cell joined her profile
    assert lan["phones"] == ["+84901234567", "+84912345678", "+84933444555"]
    assert "Khách VIP" in lan["tags"]

    shopee = await upload(api, "customers", "customers_shopee.csv")
    assert shopee["format"] == "shopee"
    assert by_line(shopee) == {
        2: ("updated", None),  # her Shopee username joins her profile
        3: ("unchanged", None),  # the same order's second line
        4: ("error", "Số điện thoại"),  # masked by Shopee
        5: ("created", None),
    }
    lan = await customer_by_phone(api, "+84901234567")
    assert {"kind": "shopee", "value": "lan.nguyen90"} in lan["identities"]
    assert (await customer_by_phone(api, "0988777666"))["source"] == "shopee"

    again = await upload(api, "customers", "customers_ours.csv")  # the same file twice doubles nobody
    assert [row["status"] for row in again["rows"]] == ["unchanged"] * 4 + ["error"] * 2


async def test_products_from_every_platform(api: Api) -> None:
    ours = await upload(api, "products", "products_ours.csv", multipart=True)
    assert by_line(ours) == {
        2: ("created", None),
        3: ("created", None),
        4: ("created", None),
        5: ("created", None),
        6: ("error", "stock"),
        7: ("created", None),
        8: ("error", "weight_g"),
    }
    dress = (await api.request("GET", "/api/products/DRESS-01")).json()
    assert (dress["name"], dress["weight_g"], dress["length_cm"]) == ("Đầm hoa", 350, 30)
    assert [(v["size"], v["color"], v["price"], v["stock"], v["weight_g"]) for v in dress["variants"]] == [
        ("S", "đỏ", 450000, 5, 350),
        ("M", "đỏ", 450000, 3, 350),
        ("L", "đỏ", 470000, 2, 380),
    ]
    assert (await api.request("GET", "/api/products/CAP-03")).json()["weight_g"] == 150

    sapo = await upload(api, "products", "products_sapo.csv")
    assert sapo["format"] == "sapo"
    assert by_line(sapo) == {
        2: ("created", None),
        3: ("created", None),
        4: ("created", None),
        5: ("created", None),
        6: ("error", "Tồn kho"),
    }
    shirt = (await api.request("GET", "/api/products/SOMI-LINEN-TRANG-M")).json()
    assert [(v["size"], v["color"], v["stock"]) for v in shirt["variants"]] == [
        ("M", "Trắng", 10),
        ("L", "Trắng", 6),
        ("M", "Be", 4),
    ]
    trousers = (await api.request("GET", "/api/products/QUAN-AU-30")).json()
    assert trousers["weight_g"] == 500

    kiotviet = await upload(api, "products", "products_kiotviet.csv")
    assert by_line(kiotviet) == {
        2: ("created", None),
        3: ("created", None),
        4: ("created", None),
        5: ("created", None),
        6: ("skipped", None),  # a box of 10 pairs: a unit of SP000104, not a variant
        7: ("error", "Giá bán"),
    }
    dress = (await api.request("GET", "/api/products/SP000101")).json()
    assert [(v["size"], v["color"], v["price"], v["weight_g"]) for v in dress["variants"]] == [
        ("S", "Xanh", 560000, 400),
        ("M", "Xanh", 560000, 400),
        ("L", "Xanh", 580000, 420),
    ]

    shopee = await upload(api, "products", "products_shopee.csv")
    assert by_line(shopee) == {
        2: ("skipped", None),  # the template's hidden row and its labels
        3: ("skipped", None),
        4: ("created", None),
        5: ("created", None),
        6: ("created", None),
        7: ("created", None),
    }
    jacket = (await api.request("GET", "/api/products/AKG-2L")).json()
    assert [(v["size"], v["color"], v["price"], v["stock"], v["weight_g"]) for v in jacket["variants"]] == [
        ("M", "Đen", 299000, 15, 400),
        ("L", "Đen", 299000, 9, 400),
        ("L", "Xám", 309000, 0, 450),
    ]
    assert (await api.request("GET", "/api/products/SHOPEE-22334455999")).json()["variants"][0]["size"] == "39"

    # A second import updates: the stock of M changes, a new variant is added, the others are kept.
    csv = (
        "sku,name,weight_g,size,color,price,stock\n"
        "DRESS-01,Đầm hoa xuân,360,M,đỏ,455000,9\n"
        "DRESS-01,,360,XL,đỏ,480000,1\n"
    )
    response = await post_csv(api, "products", csv)
    assert [row["status"] for row in response.json()["rows"]] == ["updated", "updated"]
    dress = (await api.request("GET", "/api/products/DRESS-01")).json()
    assert dress["name"] == "Đầm hoa xuân"
    assert [(v["size"], v["price"], v["stock"]) for v in dress["variants"]] == [
        ("S", 450000, 5),
        ("M", 455000, 9),
        ("L", 470000, 2),
        ("XL", 480000, 1),
    ]


async def test_a_variant_the_catalogue_refuses_names_its_row_and_keeps_the_other_products(api: Api) -> None:
    csv = (
        "sku,name,weight_g,size,color,price,stock\n"
        "A-1,Áo,200,M,,100000,1\n"
        "A-1,Áo,200,M,,100000,2\n"  # the same size and colour twice
        "B-2,Bút,20,,,5000,3\n"
    )
    rows = (await post_csv(api, "products", csv)).json()["rows"]
    assert [(r["line"], r["status"], r.get("field")) for r in rows] == [
        (2, "error", None),
        (3, "error", "size"),
        (4, "created", None),
    ]
    assert "line 3" in rows[0]["message"]
    assert (await api.request("GET", "/api/products/A-1")).status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "status", "names"),
    [
        (b"sku;name\nA;B\n", "text/csv", 422, '"weight_g"'),  # our header without the required columns
        (b"foo,bar\n1,2\n", "text/csv", 422, "our own needs the columns"),
        (b"PK\x03\x04\x14\x00\x06\x00", "text/csv", 422, "Excel workbook"),
        (b"", "text/csv", 422, "empty"),
        (b'{"sku": "A"}', "application/json", 415, "text/csv"),
    ],
)
async def test_what_cannot_be_imported_is_a_problem_naming_why(
    api: Api, body: bytes, content_type: str, status: int, names: str
) -> None:
    response = await api.request("POST", "/api/products/import", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert names in response.json()["detail"]
    if status == 422:
        assert response.json()["errors"][0]["field"] == "file"


async def test_a_forced_format_that_does_not_fit_names_its_missing_columns(api: Api) -> None:
    data = (SAMPLES / "customers_ours.csv").read_bytes()
    response = await post_csv(api, "customers", data.decode(), format="kiotviet")
    assert response.status_code == 422, response.text
    assert '"Mã khách hàng"' in response.json()["detail"]
    bad = await api.request("POST", "/api/customers/import", content=data, params={"format": "excel"})
    assert bad.status_code == 400 or bad.status_code == 422, bad.text


async def test_the_upload_needs_a_staff_key_a_file_field_and_a_bounded_size(api: Api) -> None:
    data = (SAMPLES / "customers_ours.csv").read_bytes()
    anonymous = await api.request("POST", "/api/customers/import", key=None, content=data)
    assert anonymous.status_code == 401
    wrong_field = await api.request("POST", "/api/customers/import", files={"upload": ("c.csv", data)})
    assert wrong_field.status_code == 422 and wrong_field.json()["errors"][0]["field"] == "file"
    too_large = await api.request(
        "POST",
        "/api/customers/import",
        content=data,
        headers={"Content-Type": "text/csv", "Content-Length": str(200 * 1024 * 1024)},
    )
    assert too_large.status_code == 413, too_large.text
