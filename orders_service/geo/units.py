"""Vietnam's 2025 two-level administrative units (34 provinces, 3,321 wards) as fast, validated lookups."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from vietnam_provinces import Province, Ward

# NFKD leaves đ/Đ intact: it is a distinct letter, not d with a combining mark.
_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})
_WARD_PREFIXES = ("Phường ", "Xã ", "Đặc khu ")


class AddressError(ValueError):
    """A province or ward code that does not exist, or a ward that is not in the given province."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[AddressError], tuple[str, str]]:
        # The default reduce would replay only (message,) into a two-argument __init__.
        return (type(self), (self.field, self.message))


@dataclass(frozen=True)
class Units:
    province_code: int
    province_name: str
    ward_code: int
    ward_name: str


def fold(text: str) -> str:
    """Remove Vietnamese diacritics: "Đà Nẵng" -> "Da Nang". Case is kept."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_D_STROKE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _province_index() -> dict[int, Province]:
    return {int(p.code): p for p in Province.iter_all()}


@cache
def _ward_units() -> dict[int, Units]:
    # Units are immutable, so one prebuilt value per ward makes resolve_units two dict hits.
    by_province = _province_index()
    return {
        int(w.code): Units(int(w.province_code), by_province[int(w.province_code)].name, int(w.code), _clean(w.name))
        for w in Ward.iter_all()
    }


def _clean(name: str) -> str:
    # Upstream data has a few doubled spaces ("Phường  An Nhơn"); they would break display and sorting.
    return " ".join(name.split())


def _ward_sort_key(name: str) -> tuple[str, str]:
    for prefix in _WARD_PREFIXES:
        if name.startswith(prefix):
            bare = name[len(prefix) :]
            break
    else:
        bare = name
    # Folded first so "Ấp" sorts with "A", then the exact name to keep ties deterministic.
    return (fold(bare).casefold(), name)


@cache
def _wards_sorted() -> dict[int, tuple[tuple[int, str], ...]]:
    grouped: dict[int, list[tuple[int, str]]] = {code: [] for code in _province_index()}
    for units in _ward_units().values():
        grouped[units.province_code].append((units.ward_code, units.ward_name))
    return {
        code: tuple(sorted(items, key=lambda item: (*_ward_sort_key(item[1]), item[0])))
        for code, items in grouped.items()
    }


def _province(code: int) -> Province:
    province = _province_index().get(code)
    if province is None:
        raise AddressError(
            "province_code",
            f"unknown province code {code}; Vietnam has {len(_province_index())} provinces since 1 July 2025",
        )
    return province


def province_name(code: int) -> str:
    """Official name of a 2025 province, e.g. 79 -> "Thành phố Hồ Chí Minh"."""
    return _province(code).name


def resolve_units(province_code: int, ward_code: int) -> Units:
    """Validate a (province, ward) pair and return both names; AddressError names the faulty field."""
    province = _province(province_code)
    units = _ward_units().get(ward_code)
    if units is None:
        raise AddressError(
            "ward_code",
            f"unknown ward code {ward_code}; it is not one of the {len(_ward_units()):,} wards and communes"
            " in force since 1 July 2025",
        )
    if units.province_code != province_code:
        raise AddressError(
            "ward_code",
            f"ward {ward_code} ({units.ward_name}) is in province {units.province_code}"
            f" ({units.province_name}), not in province {province_code} ({province.name})",
        )
    return units


def provinces() -> list[tuple[int, str]]:
    """All 34 provinces as (code, name), by code."""
    return sorted((code, p.name) for code, p in _province_index().items())


def wards(province_code: int) -> list[tuple[int, str]]:
    """The wards of a province as (code, name), by name without its "Phường"/"Xã"/"Đặc khu" prefix."""
    _province(province_code)
    return list(_wards_sorted()[province_code])


def find_ward(ward_code: int) -> Units | None:
    """The ward's units (with its province), or None for a code that is not a 2025 ward."""
    return _ward_units().get(ward_code)
