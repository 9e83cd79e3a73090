"""The customer's page's words are the `public` gettext catalogue: it follows the code (every marked string of
links/ and templates/public/, nothing stale), English translates each line, and no Vietnamese text in links/ is
left outside it (words in a dictionary of code would be out of a translator's reach)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from orders_service.infra import i18n
from orders_service.infra.catalogues import extract, read, template_path
from orders_service.links import words

FIX = "run `PYTHONPATH=$PWD python -m orders_service.infra.catalogues`, then translate the new lines of en"
LINKS = Path(words.__file__).resolve().parent
VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.I)


def ids(catalog: object) -> set[object]:
    return {m.id for m in catalog if m.id}  # type: ignore[attr-defined]


def test_the_public_template_and_catalogues_hold_exactly_the_strings_of_the_page() -> None:
    code = ids(extract(i18n.PUBLIC))
    assert "Số điện thoại khác" in code and "Liên hệ cửa hàng" in code, "babel-public.cfg names no file"
    assert ids(read(template_path(i18n.PUBLIC))) == code, FIX
    for language in i18n.LANGUAGES:
        assert ids(read(i18n.po_path(language, i18n.PUBLIC), language)) == code, (language, FIX)


def test_english_translates_every_line_of_the_page_with_the_same_placeholders() -> None:
    english = read(i18n.po_path("en", i18n.PUBLIC), "en")
    assert [m.id for m in english if m.id and not m.string] == [], FIX
    assert [(message.id, errors) for message, errors in english.check() if errors] == []


def _texts(tree: ast.AST) -> list[str]:
    """The module's string constants, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_every_vietnamese_text_in_the_page_code_is_in_the_catalogue() -> None:
    """A new word put in a dict of links/ (not in the .po) fails here: mark it N_() and refresh the catalogues."""
    msgids = ids(read(template_path(i18n.PUBLIC)))
    names = set(words.COURIERS.values())  # couriers by their own names, the same in every language
    outside = [
        (path.name, text)
        for path in sorted(LINKS.glob("*.py"))
        for text in _texts(ast.parse(path.read_text()))
        if VIETNAMESE.search(text) and text not in msgids and text not in names
    ]
    assert outside == [], FIX


def test_each_audience_has_its_own_words() -> None:
    assert words._("Đơn hàng", "vi") == "Đơn hàng"
    assert words._("Đơn hàng", "en") == "Order"  # above her order
    assert i18n.gettext("Đơn hàng", "en") == "Orders"  # the dashboard's menu
    assert words.field_error("phone2", "phone.too_short", {}, "en") == "Another phone: some digits are missing"
    assert words.field_error("qty-7", "qty", {}, "vi") == "Số lượng: chọn một số trong danh sách"
    choose = words.field_error("address_text", "address_text.choose", {"wards": "Kim Mã; Giảng Võ"}, "en")
    assert choose == "Address: this ward is now part of several 2025 wards, name one of: Kim Mã; Giảng Võ"
    assert words.field_error("form", "a code nobody knows", {}, "en") == "The order cannot be changed this way."
    assert words.status("a status added later", "en") == "Being processed"
