"""The pickers' option tags (orders_service/geo/options.py): the same markup the page's loop made, built once."""

from __future__ import annotations

import re

from jinja2 import Environment

from orders_service.geo import provinces, wards
from orders_service.geo.options import _tags, province_options, ward_options

# What order.html rendered for its two pickers before: a loop turn, two escapes and a comparison per option.
LOOP = Environment(autoescape=True).from_string(
    '{% for code, name in choices %}<option value="{{ code }}"{% if value == code|string %} selected{% endif %}>'
    "{{ name }}</option>{% endfor %}"
)


def test_the_options_are_what_the_loop_rendered_with_the_same_one_selected() -> None:
    ward = str(wards(79)[5][0])
    assert str(province_options("79")) == LOOP.render(choices=provinces(), value="79")
    assert str(ward_options("79", ward)) == LOOP.render(choices=wards(79), value=ward)
    assert str(province_options(None)) == LOOP.render(choices=provinces(), value=None)


def test_only_the_exact_value_is_selected() -> None:
    assert 'value="7" selected' not in str(province_options("7"))  # no province 7: 79 is not it
    assert str(province_options("7")).count(" selected") == 0
    assert re.findall(r'value="(\d+)" selected', str(province_options("1"))) == ["1"]
    assert str(province_options('79"><script>')).count(" selected") == 0


def test_an_unknown_province_has_no_wards_and_names_are_escaped() -> None:
    assert str(ward_options("x", None)) == "" and str(ward_options("999", "1")) == ""
    assert _tags([(1, "A & <B>")]) == '<option value="1">A &amp; &lt;B&gt;</option>'
