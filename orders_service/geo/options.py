"""The province and ward pickers' `<option>` tags, built once per list and reused by every page.

The customer's edit page is a hot path (bench/hotpaths_bench.py), and its two pickers were most of its template's
work: 34 provinces and up to 168 wards of hers, each option a loop turn with two escapes and a comparison in
Jinja, on every page. Here each list's tags are joined once (names escaped), and a page only marks its selected
option, by exact value.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup, escape

from orders_service.geo.units import provinces, wards


def _tags(choices: Iterable[tuple[int, str]]) -> str:
    return "".join(f'<option value="{code}">{escape(name)}</option>' for code, name in choices)


@functools.cache
def _province_tags() -> str:
    return _tags(provinces())


@functools.lru_cache(maxsize=64)
def _ward_tags(province: str) -> str:
    # AddressError is a ValueError: an unknown province leaves the picker empty, and the form's error says why.
    try:
        return _tags(wards(int(province)))
    except ValueError:
        return ""


def _selected(tags: str, value: str | None) -> Markup:
    """`tags` with the option whose value is exactly `value` marked selected (none when nothing matches)."""
    if value:
        option = f'<option value="{escape(value)}">'
        tags = tags.replace(option, f'<option value="{escape(value)}" selected>', 1)
    return Markup(tags)


def province_options(selected: str | None) -> Markup:
    """Every province's option, `selected` (a code as the form sent it) marked."""
    return _selected(_province_tags(), selected)


def ward_options(province: str, selected: str | None) -> Markup:
    """The options of the wards of `province` (a code as the form sent it; none for an unknown one)."""
    return _selected(_ward_tags(province), selected)
