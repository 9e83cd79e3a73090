"""Unit tests for orders_service.domain.phones: Vietnamese phone forms, legacy prefixes, lists of phones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders_service.domain.errors import InvalidField
from orders_service.domain.phones import LEGACY_MOBILE_PREFIXES, normalise_phone, normalise_phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0901 234 567", "+84901234567"),
        ("0901234567", "+84901234567"),
        ("+84901234567", "+84901234567"),
        ("+84 901 234 567", "+84901234567"),
        ("84-90-123-4567", "+84901234567"),
        ("84901234567", "+84901234567"),
        ("0912.345.678", "+84912345678"),
        ("  0912345678  ", "+84912345678"),
        ("0901\u00a0234\u00a0567", "+84901234567"),
        ("0283 822 1234", "+842838221234"),
        ("(028) 3822-1234", "+842838221234"),
        ("+84 28 3822 1234", "+842838221234"),
        ("842838221234", "+842838221234"),
        ("024 3825 3536", "+842438253536"),
    ],
)
def test_common_forms_normalise_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(("old", "new"), sorted(LEGACY_MOBILE_PREFIXES.items()))
@pytest.mark.parametrize("prefix", ["", "+84", "84", "+84 ", "84-"])
def test_legacy_eleven_digit_mobiles_map_to_their_new_prefix(old: str, new: str, prefix: str) -> None:
    raw = (prefix + old[1:] if prefix else old) + "1234567"
    assert len(old + "1234567") == 11
    assert normalise_phone(raw) == "+84" + new[1:] + "1234567"


def test_legacy_example_from_the_renumbering() -> None:
    assert normalise_phone("0166 123 4567") == "+84361234567"
    assert normalise_phone("0166 123 4567") == normalise_phone("036 123 4567")


def test_legacy_table_matches_the_2018_renumbering() -> None:
    assert len(LEGACY_MOBILE_PREFIXES) == 21
    assert all(len(old) == 4 and old.startswith("01") for old in LEGACY_MOBILE_PREFIXES)
    assert all(len(new) == 3 and new.startswith("0") for new in LEGACY_MOBILE_PREFIXES.values())
    assert len(set(LEGACY_MOBILE_PREFIXES.values())) == len(LEGACY_MOBILE_PREFIXES)
    assert {LEGACY_MOBILE_PREFIXES[f"016{d}"] for d in "23456789"} == {f"03{d}" for d in "23456789"}


def test_legacy_mobile_with_country_code_and_trunk_zero_maps_like_a_modern_one() -> None:
    assert normalise_phone("+84 0901 234 567") == "+84901234567"
    assert normalise_phone("+84 0166 123 4567") == "+84361234567"


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "",
        "   ",
        "123",
        "090123456",
        "09012345678",
        "0" * 33,
        "0901 234 567 " + "x" * 30,
        "+",
        "++84901234567",
        "0901_234_567",
        "0901-234-567a",
        "8490123456",
    ],
)
def test_invalid_phones_raise_invalid_field_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidField) as caught:
        normalise_phone(raw, "recipient.phones[0]")
    assert caught.value.field == "recipient.phones[0]"
    assert caught.value.detail.startswith("recipient.phones[0]: ")


def test_default_field_name_is_phone() -> None:
    with pytest.raises(InvalidField) as caught:
        normalise_phone("abc")
    assert caught.value.field == "phone"


@given(raw=st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_any_text_either_normalises_to_e164_or_raises_invalid_field(raw: str) -> None:
    try:
        phone = normalise_phone(raw, "f")
    except InvalidField as error:
        assert error.field == "f"
    else:
        assert phone.startswith("+") and phone[1:].isascii() and phone[1:].isdigit()
        assert normalise_phone(phone) == phone


@given(national=st.from_regex(r"\A(3[2-9]|5[689]|7[06-9]|8[1-68]|9[0-46-8])[0-9]{7}\Z"))
@settings(max_examples=200, deadline=None)
def test_mobile_forms_agree(national: str) -> None:
    expected = "+84" + national
    spaced = f"0{national[:3]} {national[3:6]} {national[6:]}"
    for raw in ("0" + national, "84" + national, "+84" + national, spaced):
        assert normalise_phone(raw) == expected


def test_normalise_phones_keeps_the_order_given() -> None:
    raws = ["0283 822 1234", "+84901234567", "0166 123 4567"]
    assert normalise_phones(raws, "recipient.phones") == ["+842838221234", "+84901234567", "+84361234567"]


@pytest.mark.parametrize(
    ("raws", "field"),
    [
        (["0901234567", "+84901234567"], "recipient.phones[1]"),
        (["0912345678", "0901 234 567", "84-90-123-4567"], "recipient.phones[2]"),
        (["0361234567", "01661234567"], "recipient.phones[1]"),
    ],
)
def test_normalise_phones_refuses_the_same_number_in_two_forms(raws: list[str], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        normalise_phones(raws, "recipient.phones")
    assert caught.value.field == field
    assert "already in the list" in caught.value.message


@pytest.mark.parametrize("count", [0, 4, 5])
def test_normalise_phones_refuses_counts_outside_one_to_three(count: int) -> None:
    raws = [f"09012345{i:02d}" for i in range(count)]
    with pytest.raises(InvalidField) as caught:
        normalise_phones(raws, "recipient.phones")
    assert caught.value.field == "recipient.phones"
    assert "between 1 and 3" in caught.value.message


def test_normalise_phones_names_the_index_of_an_invalid_phone() -> None:
    with pytest.raises(InvalidField) as caught:
        normalise_phones(["0901234567", "123"], "recipient.phones")
    assert caught.value.field == "recipient.phones[1]"


def test_normalise_phones_honours_custom_bounds() -> None:
    assert normalise_phones([], "customer.phones", minimum=0) == []
    with pytest.raises(InvalidField):
        normalise_phones(["0901234567", "0912345678"], "customer.phones", maximum=1)


def test_full_width_digits_from_a_phone_keyboard_normalise() -> None:
    assert normalise_phone("０１６６ １２３ ４５６７") == "+84361234567"


def test_recipient_phones_must_be_vietnamese_but_customer_phones_need_not() -> None:
    assert normalise_phone("+1 650 253 0000") == "+16502530000"
    with pytest.raises(InvalidField) as raised:
        normalise_phones(["0901234567", "+1 650 253 0000"], "recipient.phones", vietnam_only=True)
    assert raised.value.field == "recipient.phones[1]"
