"""Province centroids, distances and delivery zones, plus an offline geopy geocoder over the 34 provinces."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from geopy.distance import geodesic
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from orders_service.geo.units import AddressError, fold, province_name

Zone = Literal["intra_province", "near", "far"]
NEAR_KM = 300.0

# Shops still write the pre-July-2025 provinces; each maps to the province that absorbed it.
_ALIASES: dict[int, tuple[str, ...]] = {
    1: ("HN", "Hanoi"),
    8: ("Hà Giang",),
    15: ("Yên Bái",),
    19: ("Bắc Kạn", "Bắc Cạn"),
    24: ("Bắc Giang",),
    25: ("Vĩnh Phúc", "Hòa Bình"),
    31: ("Hải Dương", "HP"),
    33: ("Thái Bình",),
    37: ("Hà Nam", "Nam Định"),
    44: ("Quảng Bình",),
    46: ("Thừa Thiên Huế",),
    48: ("Quảng Nam",),
    51: ("Kon Tum",),
    52: ("Bình Định",),
    56: ("Ninh Thuận",),
    66: ("Phú Yên",),
    68: ("Đắk Nông", "Bình Thuận"),
    75: ("Bình Phước",),
    79: ("HCM", "HCMC", "TPHCM", "Sài Gòn", "Saigon", "Bình Dương", "Bà Rịa - Vũng Tàu", "BRVT"),
    80: ("Long An",),
    82: ("Tiền Giang",),
    86: ("Bến Tre", "Trà Vinh"),
    91: ("Kiên Giang",),
    92: ("Sóc Trăng", "Hậu Giang"),
    96: ("Bạc Liêu",),
}
_LEADING = (("thanh", "pho"), ("tinh",), ("tp",), ("t", "p"))
_TRAILING = (("city",), ("province",))
_COUNTRY = frozenset({"viet nam", "vietnam", "vn"})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class _Centroid:
    code: int
    name: str
    seat: str
    lat: float
    lon: float


@cache
def _centroids() -> dict[int, _Centroid]:
    raw = json.loads(files("orders_service.geo").joinpath("centroids.json").read_text(encoding="utf-8"))
    return {
        int(code): _Centroid(int(code), row["name"], row["seat"], float(row["lat"]), float(row["lon"]))
        for code, row in raw.items()
    }


def _centroid(code: int) -> _Centroid:
    found = _centroids().get(code)
    if found is None:
        province_name(code)  # raises the standard "unknown province" AddressError
        raise AddressError("province_code", f"province {code} has no centroid")
    return found


def province_centroid(code: int) -> tuple[float, float]:
    """(lat, lon) of the seat of the province's People's Committee."""
    c = _centroid(code)
    return (c.lat, c.lon)


def distance_km(origin: tuple[float, float], province_code: int) -> float:
    """Geodesic distance from a (lat, lon) point to the province's centroid."""
    return float(geodesic(origin, province_centroid(province_code)).km)


def zone(origin_province: int, dest_province: int) -> Zone:
    """Fee zone between two provinces: same province, centroids under 300 km apart, or farther."""
    origin = province_centroid(origin_province)
    dest = province_centroid(dest_province)
    if origin_province == dest_province:
        return "intra_province"
    return "near" if geodesic(origin, dest).km < NEAR_KM else "far"


@dataclass(frozen=True)
class Warehouse:
    province_code: int
    lat: float
    lon: float

    @classmethod
    def in_province(cls, code: int) -> Warehouse:
        lat, lon = province_centroid(code)
        return cls(code, lat, lon)


def _key(text: str) -> str:
    words = _NON_ALNUM.sub(" ", fold(text).casefold()).split()
    stripped = True
    while stripped and words:
        stripped = False
        for affix in _LEADING:
            if tuple(words[: len(affix)]) == affix and len(words) > len(affix):
                words, stripped = words[len(affix) :], True
        for affix in _TRAILING:
            if tuple(words[-len(affix) :]) == affix and len(words) > len(affix):
                words, stripped = words[: -len(affix)], True
    return " ".join(words)


@cache
def _name_index() -> dict[str, int]:
    index: dict[str, int] = {}
    for code, c in _centroids().items():
        for name in (c.name, *_ALIASES.get(code, ())):
            key = _key(name)
            for variant in (key, key.replace(" ", "")):
                # A key shared by two provinces would silently geocode to whichever came last.
                if index.setdefault(variant, code) != code:
                    raise RuntimeError(f"province key {variant!r} is ambiguous")
    return index


def match_province(query: str) -> int | None:
    """Province code named by a code, a name or alias, or the last part of a comma-separated address."""
    text = query.strip()
    if text.isdigit():
        return int(text) if int(text) in _centroids() else None
    parts = [p for p in (_key(part) for part in text.split(",")) if p]
    while parts and parts[-1] in _COUNTRY:
        parts.pop()
    if not parts:
        return None
    index = _name_index()
    last = parts[-1]
    return index.get(last, index.get(last.replace(" ", "")))


class ProvinceGeocoder(Geocoder):
    """Offline geocoder at province granularity; same calling convention as geopy's online geocoders."""

    def __init__(self) -> None:
        # The base class only builds an HTTP adapter object; it opens no connection until a request.
        super().__init__()

    @staticmethod
    def _location(c: _Centroid, **extra: Any) -> Location:
        raw = {"province_code": c.code, "name": c.name, "seat": c.seat, "lat": c.lat, "lon": c.lon, **extra}
        return Location(f"{c.seat}, {c.name}, Việt Nam", (c.lat, c.lon), raw)

    def geocode(
        self, query: str, exactly_one: bool = True, *, timeout: object = None
    ) -> Location | list[Location] | None:
        code = match_province(query)
        if code is None:
            return None
        location = self._location(_centroids()[code], query=query)
        return location if exactly_one else [location]

    def reverse(
        self, query: Any, exactly_one: bool = True, *, timeout: object = None
    ) -> Location | list[Location] | None:
        point = Point(query)
        ranked = sorted(
            (geodesic((point.latitude, point.longitude), (c.lat, c.lon)).km, c.code) for c in _centroids().values()
        )
        found = [self._location(_centroids()[code], distance_km=km) for km, code in ranked]
        return found[0] if exactly_one else found
