"""The import's pure parts: cells as shops write them, the CSV reader, telling the layouts apart, gathering variants."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest

from orders_service.domain.errors import InvalidField
from orders_service.imports import customer_layouts, product_layouts
from orders_service.imports.customers import CustomerRow, parse_customer
from orders_service.imports.formats import detect
from orders_service.imports.products import ProductGroup, group_products, parse_product
from orders_service.imports.reader import CsvFile
from orders_service.imports.rows import Failed, Skipped
from orders_service.imports.values import BadValue, date, grams, money, several, whole

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
TODAY = datetime.date(2026, 12, 6)


@pytest.mark.parametrize(
    ("cell", "vnd"),
    [("450000", 450000), ("450.000", 450000), ("450,000đ", 450000), ("1.250.000 VND", 1250000), ("99000.0", 99000)],
)
def test_money_in_the_forms_spreadsheets_write(cell: str, vnd: int) -> None:
    assert money(cell) == vnd


@pytest.mark.parametrize("cell", ["1.5tr", "12,5", "-1", "4500.50", "abc", "1.2345"])
def test_what_is_not_an_amount_of_vnd(cell: str) -> None:
    with pytest.raises(BadValue):
        money(cell)


def test_weights_whole_numbers_dates_and_lists() -> None:
    assert [grams("500"), grams("500 g"), grams("0,5kg"), grams("0.45", "kg"), grams("2", "kg")] == [
        500,
        500,
        500,
        450,
        2000,
    ]
    with pytest.raises(BadValue):
        grams("0.0005 kg")
    assert whole("1.200") == 1200 and whole("12.0") == 12
    assert date("05/03/1990", TODAY) == datetime.date(1990, 3, 5)
    assert date("1990-03-05 00:00:00", TODAY) == datetime.date(1990, 3, 5)
    for bad in ("31/02/1999", "2027-01-01", "soon"):
        with pytest.raises(BadValue):
            date(bad, TODAY)
    assert several("0901 234 567; +84 912 345 678 / 0933-444-555") == [
        "0901 234 567",
        "+84 912 345 678",
        "0933-444-555",
    ]


def test_the_reader_numbers_lines_as_the_file_does_and_a_bad_row_does_not_stop_it() -> None:
    raw = (
        "\ufeffname;phones\n"  # Excel's BOM, and ';' where ',' is the decimal separator
        "Lan;0901234567\n"
        "\n"
        '"Hà\nNội";0912345678\n'  # a quoted cell over two lines
        "Bad;\xff\n"
        "Minh;0987654321\n"
    ).encode("utf-8", errors="surrogateescape")
    raw = raw.replace("\xff".encode("utf-8", errors="surrogateescape"), b"\xff")
    source = CsvFile(io.BytesIO(raw))
    assert source.header == ["name", "phones"] and source.delimiter == ";"
    rows = list(source.rows())
    assert rows[0] == (2, ["Lan", "0901234567"])
    assert rows[1] == (4, ["Hà\nNội", "0912345678"])
    assert rows[2][0] == 6 and "UTF-8" in str(rows[2][1])
    assert rows[3] == (7, ["Minh", "0987654321"])


@pytest.mark.parametrize(
    ("start", "says"),
    [(b"PK\x03\x04rest", "Excel workbook"), (b"%PDF-1.4", "PDF"), (b"", "empty"), (b"a,b\x00c", "binary")],
)
def test_what_is_not_a_csv_is_refused_with_a_reason(start: bytes, says: str) -> None:
    with pytest.raises(InvalidField) as refused:
        CsvFile(io.BytesIO(start))
    assert refused.value.field == "file" and says in refused.value.message


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("products_ours.csv", "ours"),
        ("products_sapo.csv", "sapo"),
        ("products_kiotviet.csv", "kiotviet"),
        ("products_shopee.csv", "shopee"),
        ("customers_ours.csv", "ours"),
        ("customers_sapo.csv", "sapo"),
        ("customers_kiotviet.csv", "kiotviet"),
        ("customers_shopee.csv", "shopee"),
    ],
)
def test_each_sample_is_told_by_its_header(name: str, layout: str) -> None:
    layouts = product_layouts.LAYOUTS if name.startswith("products") else customer_layouts.LAYOUTS
    with (SAMPLES / name).open("rb") as raw:
        assert detect(layouts, CsvFile(raw).header).layout.name == layout


def test_a_header_that_almost_fits_names_what_it_lacks() -> None:
    with pytest.raises(InvalidField) as refused:
        detect(product_layouts.LAYOUTS, ["Mã hàng", "Tên hàng", "Giá bán", "Tồn kho"])
    assert refused.value.message == 'not a KiotViet product file: it has no column "Trọng lượng"'
    with pytest.raises(InvalidField) as forced:
        detect(customer_layouts.LAYOUTS, ["name", "phones"], "shopee")
    assert '"Người Mua"' in forced.value.message


def _products(name: str) -> list[object]:
    with (SAMPLES / name).open("rb") as raw:
        source = CsvFile(raw)
        binding = detect(product_layouts.LAYOUTS, source.header)
        parsed = (
            (line, parse_product(binding, line, cells)) for line, cells in source.rows() if isinstance(cells, list)
        )
        return list(group_products(parsed, binding))


def test_variants_are_gathered_into_their_product() -> None:
    items = _products("products_sapo.csv")
    # A bad row is told at once; the product it sits in goes on (here the trousers' second size is wrong).
    shirt, failed, trousers = items
    assert isinstance(shirt, ProductGroup) and isinstance(trousers, ProductGroup) and isinstance(failed, Failed)
    assert shirt.lines == [2, 3, 4] and trousers.lines == [5]
    assert shirt.as_dict() == {
        "sku": "SOMI-LINEN-TRANG-M",
        "name": "Áo sơ mi linen",
        "weight_g": 250,
        "variants": [
            {"price": 389000, "stock": 10, "size": "M", "color": "Trắng"},
            {"price": 389000, "stock": 6, "size": "L", "color": "Trắng"},
            {"price": 389000, "stock": 4, "size": "M", "color": "Be"},
        ],
    }
    assert (failed.line, failed.field) == (6, "Tồn kho")


def test_kiotviet_units_are_skipped_and_shopee_variations_split() -> None:
    kiotviet = _products("products_kiotviet.csv")
    assert any(isinstance(item, Skipped) and item.line == 6 for item in kiotviet)
    dress = kiotviet[0]
    assert isinstance(dress, ProductGroup) and dress.sku == "SP000101" and dress.lines == [2, 3, 4]
    assert dress.as_dict()["variants"][2] == {
        "price": 580000,
        "stock": 0,
        "size": "L",
        "color": "Xanh",
        "weight_g": 420,
    }
    shopee = [item for item in _products("products_shopee.csv") if isinstance(item, ProductGroup)]
    assert [(g.sku, [(v["size"], v["color"]) for v in g.as_dict()["variants"]]) for g in shopee] == [
        ("AKG-2L", [("M", "Đen"), ("L", "Đen"), ("L", "Xám")]),
        ("SHOPEE-22334455999", [("39", None)]),
    ]


def test_a_customer_row_becomes_customer_in_with_its_columns_named() -> None:
    header = ["Mã khách hàng", "Tên khách hàng", "Điện thoại", "Email", "Ngày sinh", "Giới tính", "Nhóm khách hàng"]
    binding = detect(customer_layouts.LAYOUTS, header)
    row = parse_customer(binding, 2, ["KH1", "Lan", "0901234567, 0933444555", "A@B.VN", "5/3/1990", "Nữ", "VIP"], TODAY)
    assert isinstance(row, CustomerRow)
    assert (row.data.phones, row.data.email, row.data.birthday, row.data.gender, row.data.tags, row.data.source) == (
        ["0901234567", "0933444555"],
        "a@b.vn",
        datetime.date(1990, 3, 5),
        "female",
        ["VIP"],
        "pos",
    )
    bad = parse_customer(binding, 3, ["KH2", "Minh", "0901234567", "not-an-email", "", "", ""], TODAY)
    assert isinstance(bad, Failed) and (bad.line, bad.field) == (3, "Email")
    odd = parse_customer(binding, 4, ["KH3", "Minh", "0901234567", "", "", "robot", ""], TODAY)
    assert isinstance(odd, Failed) and odd.field == "Giới tính"
