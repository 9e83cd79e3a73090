"""The old-units table the resolver reads is what vietnam-address-converter gives, and names compare as they should."""

from __future__ import annotations

import pytest

from orders_service.domain.errors import InvalidField
from orders_service.geo import legacy_build
from orders_service.geo.names import Kind, lookup_keys, words
from orders_service.geo.resolve import AddressUnresolved, resolve_names, resolve_text


def test_the_shipped_table_is_the_installed_converters() -> None:
    # After upgrading the converter: python -m orders_service.geo.legacy_build, and review the diff.
    shipped = legacy_build.BUILT.read_text(encoding="utf-8")
    assert shipped == legacy_build.dumps(legacy_build.build_from_installed())


def test_type_words_are_set_apart_only_for_their_kind_of_unit() -> None:
    assert lookup_keys(words("Q.1"), Kind.DISTRICT)[-1][1] == "1"
    assert lookup_keys(words("Q1"), Kind.WARD) == [("q 1", "q 1")]  # a district's word never names a ward
    assert words("Quán Thánh").folded == ("quan", "thanh")  # "Quán" is a name, not "Quận"
    assert words("Hoà").accented == words("Hòa").accented  # where the tone mark sits does not matter
    assert words("Sơn Hà").accented != words("Sơn Hạ").accented


def test_quan_thanh_and_quan_hoa_keep_their_first_word() -> None:
    # The converter's own normaliser reads "Quán Thánh" as "Thánh" and "Quan Hoa" as "Hoa".
    got = resolve_names("1 Phan Đình Phùng", "Quán Thánh", "Hà Nội", "Ba Đình")
    assert got.ward_name == "Phường Ba Đình"
    with pytest.raises(AddressUnresolved) as split:  # found, and split between two 2025 wards
        resolve_text("1 Quan Hoa, P. Quan Hoa, Q. Cau Giay, Ha Noi")
    assert sorted(c.name for c in split.value.candidates) == [
        "Phường Cầu Giấy, Thành phố Hà Nội",
        "Phường Nghĩa Đô, Thành phố Hà Nội",
    ]


def test_without_accents_two_wards_are_candidates_never_a_guess() -> None:
    with pytest.raises(AddressUnresolved) as refused:
        resolve_text("Thon 3, Xa Son Ha, Quang Ngai")
    assert sorted(c.name for c in refused.value.candidates) == ["Xã Sơn Hà, Quảng Ngãi", "Xã Sơn Hạ, Quảng Ngãi"]
    assert resolve_text("Thôn 3, Xã Sơn Hà, Quảng Ngãi").ward_name == "Xã Sơn Hà"


def test_a_street_named_like_a_ward_is_not_taken_for_it() -> None:
    with pytest.raises(InvalidField):
        resolve_text("5 Hàng Bài, Hoàn Kiếm, Hà Nội")  # Hàng Bài is a street here, and was a ward too


def test_a_2025_address_without_district_reads_as_the_2025_ward() -> None:
    # Ngọc Hà is a 2025 ward and an old one (split): the two-level form means the 2025 ward.
    assert resolve_text("12 Hoàng Hoa Thám, Phường Ngọc Hà, Hà Nội").ward_code == 8
    with pytest.raises(AddressUnresolved):  # with its old district, the old ward: split
        resolve_text("12 Hoàng Hoa Thám, Phường Ngọc Hà, Quận Ba Đình, Hà Nội")


def test_an_import_row_gives_an_address_in_any_shape() -> None:
    from orders_service.geo.address_in import address_from_fields

    old = address_from_fields({"text": " 12 Le Loi, P Ben Nghe, Q1, HCM ", "note": "ignored", "ward": ""}, "rows[3]")
    assert (old.line, old.ward_code, old.province_code, old.input) == (
        "12 Le Loi",
        26740,
        79,
        "12 Le Loi, P Ben Nghe, Q1, HCM",
    )
    named = address_from_fields(
        {"line": "3 Yersin", "ward": "Phú Cường", "district": "Thủ Dầu Một", "province": "Bình Dương"}
    )
    assert (named.ward_code, named.province_code) == (25747, 79)
    codes = address_from_fields({"line": "12 Lê Lợi", "ward_code": "26743", "province_code": "79"})
    assert (codes.ward_code, codes.input) == (26743, None)
    with pytest.raises(InvalidField) as bad:
        address_from_fields({"line": "1", "ward_code": "x", "province_code": "79"}, "rows[7]")
    assert bad.value.field == "rows[7].ward_code"
    with pytest.raises(AddressUnresolved) as split:
        address_from_fields({"text": "1 Kim Ma, P Kim Ma, Q Ba Dinh, HN"}, "rows[9]")
    assert split.value.field == "rows[9].text" and len(split.value.candidates) == 3
