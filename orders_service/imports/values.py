"""Cells as shops' spreadsheets write them: "450.000đ", "1,2 kg", "05/03/1990", "0901 234 567 / 0912 345 678"."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

MAX_WHOLE = 10**12

_CURRENCY = re.compile(r"\s*(?:đ|₫|vnđ|vnd|d)\s*$", re.IGNORECASE)
_GROUPED = re.compile(r"^\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*$")
_WHOLE = re.compile(r"^\d+(?:[.,]0+)?$")  # "450000" or Excel's "450000.0"
_WEIGHT = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(g|gr|gram|grams|kg|kgs|kilogram)?$", re.IGNORECASE)
_LIST_SEPARATORS = re.compile(r"\s*(?:[;,|/\n]|\s-\s)\s*")
_TAG_SEPARATORS = re.compile(r"\s*[;,|\n]\s*")


class BadValue(ValueError):
    """A cell that does not hold what its column should; the message says what was expected."""


def whole(text: str, what: str = "a whole number") -> int:
    """A non-negative whole number: "12", "12.0", "1.200", "1,200", "1 200"."""
    cell = text.strip()
    if _GROUPED.match(cell):
        value = int(re.sub(r"[.,\s]", "", cell))
    elif _WHOLE.match(cell):
        value = int(re.split(r"[.,]", cell)[0])
    else:
        raise BadValue(f"{text.strip()!r} is not {what}")
    if value > MAX_WHOLE:
        raise BadValue(f"{value} is too large")
    return value


def money(text: str) -> int:
    """An amount of VND, a whole number: "450000", "450.000", "450,000đ", "450.000 VND". No cents: VND has none."""
    return whole(_CURRENCY.sub("", text.strip()), "an amount of VND such as 450000 or 450.000")


def grams(text: str, default_unit: str = "g") -> int:
    """A weight in grams, from "500", "500 g", "0.5 kg" or "0,5kg"; a bare number is in `default_unit`."""
    match = _WEIGHT.match(text.strip())
    if match is None:
        raise BadValue(f"{text.strip()!r} is not a weight such as 500 g or 0.5 kg")
    unit = (match.group(2) or default_unit).lower()
    try:
        number = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        raise BadValue(f"{text.strip()!r} is not a weight") from None
    value = number * 1000 if unit.startswith("k") else number
    if value != value.to_integral_value():
        raise BadValue(f"{text.strip()!r} is not a whole number of grams")
    return int(value)


def date(text: str, today: datetime.date) -> datetime.date:
    """A birthday: ISO (1990-03-05), Vietnamese day first (05/03/1990, 5-3-1990), with or without a time after."""
    cell = text.strip().split(" ")[0].split("T")[0]
    parsed: datetime.date | None = None
    for layout in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            parsed = datetime.datetime.strptime(cell, layout).date()
            break
        except ValueError:
            continue
    if parsed is None:
        raise BadValue(f"{text.strip()!r} is not a date such as 1990-03-05 or 05/03/1990")
    if parsed > today:
        raise BadValue(f"{parsed.isoformat()} is in the future")
    if parsed.year < 1900:
        raise BadValue(f"{parsed.isoformat()} is too long ago")
    return parsed


def several(text: str) -> list[str]:
    """Phones or emails in one cell: separated by ; , | / a line break or " - "."""
    return [part for part in _LIST_SEPARATORS.split(text.strip()) if part]


def tags(text: str) -> list[str]:
    return list(dict.fromkeys(part for part in _TAG_SEPARATORS.split(text.strip()) if part))
