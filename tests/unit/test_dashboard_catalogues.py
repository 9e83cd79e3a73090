"""The dashboard's gettext catalogues follow the code: every string marked in the code and templates is in
messages.pot and in each language's messages.po, nothing stale stays there, and English translates each line."""

from __future__ import annotations

from orders_service.dashboard import i18n
from orders_service.dashboard.messages import TEMPLATE, extract, po_path, read
from orders_service.dashboard.problems import field_words, message_words

FIX = "run `PYTHONPATH=$PWD python -m orders_service.dashboard.messages`, then translate the new lines of en"


def ids(catalog: object) -> set[object]:
    return {m.id for m in catalog if m.id}  # type: ignore[attr-defined]


def test_the_template_and_every_catalogue_hold_exactly_the_strings_of_the_code() -> None:
    code = ids(extract())
    assert code, "nothing extracted: babel.cfg names no file"
    assert ids(read(TEMPLATE)) == code, FIX
    for language in i18n.LANGUAGES:
        assert ids(read(po_path(language), language)) == code, (language, FIX)


def test_english_translates_every_line_with_the_same_placeholders() -> None:
    english = read(po_path("en"), "en")
    untranslated = [m.id for m in english if m.id and not m.string]
    assert untranslated == [], FIX
    problems = [(message.id, errors) for message, errors in english.check() if errors]
    assert problems == []


def test_vietnamese_is_the_source_and_english_its_translation() -> None:
    assert i18n.gettext("Đơn hàng", "vi") == "Đơn hàng"
    assert i18n.gettext("Đơn hàng", "en") == "Orders"
    assert i18n.gettext("a string no catalogue knows", "en") == "a string no catalogue knows"


def test_field_paths_and_english_messages_become_words() -> None:
    i18n.current.set("vi")
    assert field_words("operations[0].phones[1]") == "Số điện thoại thứ 2"
    assert field_words("lines[2].quantity") == "Số lượng (sản phẩm thứ 3)"
    assert field_words("recipient.address.ward_code") == "Phường/xã"
    assert field_words("something_unknown[3]") == "Thông tin nhập"
    assert message_words("'12345' is not a phone number") == "không phải số điện thoại"
    assert message_words("give between 1 and 3 phone numbers") == "cần từ 1 đến 3 số điện thoại"
    assert message_words("an English sentence nobody mapped") == "giá trị chưa hợp lệ"
    i18n.current.set("en")
    try:
        assert field_words("operations[0].phones[1]") == "Phone number no. 2"
        assert message_words("Expected `int`, got `str`") == "must be a whole number"
    finally:
        i18n.current.set("vi")
