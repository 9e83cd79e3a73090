"""No text of the dashboard escapes the catalogues: every word a person reads on a dashboard page comes from `_()`
(or a variable), so that the English page has no Vietnamese left in it and a new page's text fails here until it is
marked.

Templates: the text between tags and the attributes people read (title, placeholder, aria-label, alt, label,
data-label, a button's value), with every `{{ ... }}` and `{% ... %}` taken out, must hold no word; and a string
literal a template prints (`{{ 'khách trả' if ... }}`) must go through `_()`. Python: a Vietnamese string literal in
the dashboard's code must sit in `_()`, `gettext()`, `ngettext()` or `N_()` (msgids are Vietnamese)."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from orders_service.dashboard.pages import TEMPLATES

DASHBOARD_CODE = Path(__file__).resolve().parents[2] / "orders_service" / "dashboard"
TEMPLATE_DIR = TEMPLATES / "dashboard"
FIX = "mark it with _() (templates) or gettext()/N_() (Python), then run `python -m orders_service.dashboard.messages`"

MARK = "\x00"  # where a {{ ... }} was: a value, not text
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "data-label"}
WORD = re.compile(r"[^\W\d_]{2,}")
# The same in every language: the courier's own names, abbreviations a Vietnamese and an English shop both write.
SAME_IN_EVERY_LANGUAGE = {"COD", "SKU", "GHN", "GHTK", "Ahamove", "Sandbox", "Viettel Post"}
# Python strings that are not text to translate, each for its reason.
NOT_TEXT = {
    "Tiếng Việt",  # a language's name in its own language (i18n.NAMES): never translated
    "XOÁ",  # the word typed to confirm an erasure: the same in every language, so no one types it by accident
}
GETTEXT = {"_", "gettext", "ngettext", "N_"}
ATTRIBUTES_ONLY = re.compile(r'\s*(?:[\w-]+="[^"]*"\s*)+')


def words(text: str) -> list[str]:
    text = text.replace(MARK, " ")
    for same in SAME_IN_EVERY_LANGUAGE:
        text = text.replace(same, " ")
    return WORD.findall(text)


class _Text(HTMLParser):
    """The text nodes and read attributes of a template whose Jinja parts were taken out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.code = 0  # inside <script>/<style>/<code>: not prose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self.code += 1
        button = tag == "input" and dict(attrs).get("type") in ("submit", "button", "reset")
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (button and name == "value")) and words(value):
                self.found.append(f'{name}="{value.replace(MARK, "{{…}}")}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if ATTRIBUTES_ONLY.fullmatch(data):
            return  # a macro's attributes, written into the tag that calls it
        if not self.code and words(data):
            self.found.append(" ".join(data.replace(MARK, "{{…}}").split()))


def _printed_literals(node: nodes.Node, found: list[str]) -> None:
    """String literals a template shows without `_()`: not compared, indexed, tested or imported ones."""
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in GETTEXT:
        return
    if isinstance(node, nodes.Compare | nodes.Getitem | nodes.Test | nodes.Include | nodes.Import):
        return
    if isinstance(node, nodes.FromImport | nodes.Extends | nodes.Getattr):
        return
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        value = node.value
        vietnamese = re.search(r"[^\x00-\x7f]", value) and WORD.search(value)
        if (vietnamese or re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", value)) and value not in SAME_IN_EVERY_LANGUAGE:
            found.append(repr(value))
    for child in node.iter_child_nodes():
        _printed_literals(child, found)


def untranslated_in_template(source: str) -> list[str]:
    masked = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    masked = re.sub(r"\{\{.*?\}\}", MARK, masked, flags=re.S)
    masked = re.sub(r"\{%.*?%\}", "", masked, flags=re.S)
    parser = _Text()
    parser.feed(masked)
    parser.close()
    literals: list[str] = []
    _printed_literals(Environment(extensions=["jinja2.ext.i18n"]).parse(source), literals)
    return parser.found + literals


def untranslated_in_python(source: str) -> list[str]:
    tree = ast.parse(source)
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in GETTEXT:
                marked.update(id(inner) for inner in ast.walk(node))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            marked.add(id(body[0].value))  # a docstring
    return [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in marked
        and node.value not in NOT_TEXT
        and re.search(r"[^\x00-\x7f]", node.value)
        and WORD.search(node.value)
    ]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATE_DIR.glob("*.html")))
def test_every_word_of_a_dashboard_template_comes_from_the_catalogues(template: str) -> None:
    assert untranslated_in_template((TEMPLATE_DIR / template).read_text()) == [], FIX


@pytest.mark.parametrize("module", sorted(p.name for p in DASHBOARD_CODE.glob("*.py")))
def test_every_vietnamese_string_of_the_dashboard_code_is_marked(module: str) -> None:
    assert untranslated_in_python((DASHBOARD_CODE / module).read_text()) == [], FIX


def test_the_check_sees_text_attributes_and_printed_literals_but_not_marked_text() -> None:
    found = untranslated_in_template(
        '<h1>Sửa đơn <a href="/x">{{ code }}</a></h1><input placeholder="vd. khách đổi"> <p title="{{ _("Ok") }}">'
        "{{ 'khách trả' if shop else _('shop trả') }}</p><script>var a = 'text here';</script>"
        "{% if a == 'đã giao' %}{{ _('Lưu') }} · {{ n }} ₫ COD{% endif %}<code>POST /api</code>"
    )
    assert found == ["Sửa đơn", 'placeholder="vd. khách đổi"', "'khách trả'"]
    python = 'X = N_("Đã giao")\nY = "Chưa giao"\nZ = gettext("Lưu") % {"n": "còn"}\nW = i18n.gettext("Tìm")\n'
    assert untranslated_in_python(python) == ["line 2: 'Chưa giao'", "line 3: 'còn'"]
