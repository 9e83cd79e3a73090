"""Unit tests for orders_service.geo: unit validation, centroids, zones and the offline geocoder."""

from __future__ import annotations

import dataclasses
import pickle
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest
from geopy.distance import geodesic
from geopy.location import Location
from hypothesis import given
from hypothesis import strategies as st
from vietnam_provinces import Ward

from orders_service import geo

ALL_WARDS = list(Ward.iter_all())
PROVINCE_CODES = [code for code, _ in geo.provinces()]
HANOI, HCMC = 1, 79


def _geocode(query: str) -> int | None:
    found = geo.ProvinceGeocoder().geocode(query)
    assert found is None or isinstance(found, Location)
    return None if found is None else int(found.raw["province_code"])


def test_34_provinces_by_code_and_3321_wards_each_listed_once_under_its_province() -> None:
    assert len(PROVINCE_CODES) == 34
    assert sorted(PROVINCE_CODES) == PROVINCE_CODES
    assert (HCMC, "Thành phố Hồ Chí Minh") in geo.provinces()
    listed = [(p, code) for p in PROVINCE_CODES for code, _ in geo.wards(p)]
    assert len(listed) == 3321
    assert len({code for _, code in listed}) == 3321
    assert sorted(listed) == sorted((int(w.province_code), int(w.code)) for w in ALL_WARDS)


def test_wards_sorted_by_bare_name_with_clean_whitespace() -> None:
    names = [name for _, name in geo.wards(HCMC)]
    bare = [geo.fold(re.sub(r"^(Phường|Xã|Đặc khu) ", "", n)).casefold() for n in names]
    assert bare == sorted(bare)
    # Upstream spells this ward "Phường  An Nhơn"; the double space must not leak out or sort it first.
    assert "Phường An Nhơn" in names
    assert all(" ".join(n.split()) == n for p in PROVINCE_CODES for _, n in geo.wards(p))


def test_resolve_units_happy_path() -> None:
    assert geo.resolve_units(HCMC, 26743) == geo.Units(HCMC, "Thành phố Hồ Chí Minh", 26743, "Phường Bến Thành")
    with pytest.raises(dataclasses.FrozenInstanceError):
        geo.resolve_units(HCMC, 26743).ward_name = "x"  # type: ignore[misc]


UNKNOWN_99 = "unknown province code 99; Vietnam has 34 provinces since 1 July 2025"
OUTSIDE = "ward 26743 (Phường Bến Thành) is in province 79 (Thành phố Hồ Chí Minh), not in province 1"
ERRORS: dict[str, tuple[Callable[[], object], str, str]] = {
    "ward_outside_province": (lambda: geo.resolve_units(HANOI, 26743), "ward_code", OUTSIDE),
    "unknown_province": (lambda: geo.resolve_units(99, 26743), "province_code", UNKNOWN_99),
    "unknown_ward": (lambda: geo.resolve_units(HCMC, 99999), "ward_code", "unknown ward code 99999;"),
    "wards_unknown_province": (lambda: geo.wards(99), "province_code", UNKNOWN_99),
    "centroid_unknown_province": (lambda: geo.province_centroid(99), "province_code", UNKNOWN_99),
    "zone_unknown_province": (lambda: geo.zone(99, 99), "province_code", UNKNOWN_99),
}


@pytest.mark.parametrize(("call", "field", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_address_errors_name_the_field(call: Callable[[], object], field: str, message: str) -> None:
    with pytest.raises(geo.AddressError) as exc:
        call()
    assert exc.value.field == field
    assert exc.value.message.startswith(message)


def test_address_error_is_value_error_and_pickles() -> None:
    err = pickle.loads(pickle.dumps(geo.AddressError("ward_code", "bad ward")))
    assert isinstance(err, geo.AddressError) and isinstance(err, ValueError)
    assert (err.field, err.message, str(err)) == ("ward_code", "bad ward", "bad ward")


def test_every_ward_resolves_in_its_own_province() -> None:
    for w in ALL_WARDS:
        units = geo.resolve_units(int(w.province_code), int(w.code))
        assert (units.province_code, units.ward_code) == (w.province_code, w.code)


@given(ward=st.sampled_from(ALL_WARDS), other=st.sampled_from(PROVINCE_CODES))
def test_ward_in_any_other_province_is_rejected(ward: Ward, other: int) -> None:
    if other == ward.province_code:
        assert geo.resolve_units(other, int(ward.code)).ward_code == ward.code
        return
    with pytest.raises(geo.AddressError) as exc:
        geo.resolve_units(other, int(ward.code))
    assert exc.value.field == "ward_code"


def test_fold() -> None:
    assert geo.fold("Đà Nẵng") == "Da Nang"
    assert geo.fold("Thành phố Hồ Chí Minh") == "Thanh pho Ho Chi Minh"
    names = [n for _, n in geo.provinces()] + [n for p in PROVINCE_CODES for _, n in geo.wards(p)]
    # Only letters: a few names legitimately keep "’" or "–", which are punctuation, not diacritics.
    assert all(ch.isascii() for n in names for ch in geo.fold(n) if ch.isalpha())


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert geo.fold(geo.fold(text)) == geo.fold(text)


def test_every_province_has_a_centroid_inside_vietnam() -> None:
    for code in PROVINCE_CODES:
        lat, lon = geo.province_centroid(code)
        assert 8.1 <= lat <= 23.5, code
        assert 102.1 <= lon <= 109.6, code


def test_hanoi_hcmc_distance() -> None:
    assert 1100 <= geodesic(geo.province_centroid(HANOI), geo.province_centroid(HCMC)).km <= 1200
    assert 1100 <= geo.distance_km(geo.province_centroid(HANOI), HCMC) <= 1200
    assert geo.distance_km(geo.province_centroid(HCMC), HCMC) == pytest.approx(0.0, abs=1e-6)


def test_zone_rules_and_warehouse() -> None:
    assert geo.zone(HCMC, HCMC) == "intra_province"
    assert geo.zone(HCMC, 75) == "near"  # Biên Hòa, ~25 km
    assert geo.zone(HANOI, 24) == "near"  # Bắc Giang, ~50 km
    assert geo.zone(HANOI, HCMC) == "far"
    assert geo.zone(HCMC, 48) == "far"  # Đà Nẵng, ~600 km
    assert geo.Warehouse.in_province(HCMC) == geo.Warehouse(HCMC, *geo.province_centroid(HCMC))


@given(a=st.sampled_from(PROVINCE_CODES), b=st.sampled_from(PROVINCE_CODES))
def test_zone_is_symmetric(a: int, b: int) -> None:
    assert geo.zone(a, b) == geo.zone(b, a)
    assert (geo.zone(a, b) == "intra_province") == (a == b)


GEOCODE_CASES = {
    "79": HCMC, "Thành phố Hồ Chí Minh": HCMC, "ho chi minh": HCMC, "TP.HCM": HCMC, "HCM": HCMC,
    "Sài Gòn": HCMC, "Saigon": HCMC, "Hà Nội": HANOI, "ha noi": HANOI, "HN": HANOI, "Tỉnh Đắk Lắk": 66,
    "da nang city": 48, "Bình Dương": HCMC,  # merged into 79 on 1 July 2025
    "12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh": HCMC,
    "1 Tràng Tiền, Hoàn Kiếm, Hà Nội, Việt Nam": HANOI,
}  # fmt: skip


@pytest.mark.parametrize(("query", "code"), GEOCODE_CASES.items())
def test_geocode_matches(query: str, code: int) -> None:
    assert _geocode(query) == code


@pytest.mark.parametrize("query", ["", "99", "Atlantis", "Thành phố", "Hồ Chí Minh, Paris", "1, 2"])
def test_geocode_unknown_is_none(query: str) -> None:
    assert _geocode(query) is None


@pytest.mark.parametrize(("code", "name"), geo.provinces())
def test_geocode_every_province_by_name_folded_name_and_code(code: int, name: str) -> None:
    assert _geocode(name) == code
    assert _geocode(geo.fold(name).upper()) == code
    assert _geocode(str(code)) == code
    assert _geocode(f"So 5, Xa Moi, {geo.fold(name).lower()}") == code


def test_geocode_returns_location_at_centroid() -> None:
    found = geo.ProvinceGeocoder().geocode("Đà Nẵng")
    assert isinstance(found, Location)
    assert (found.latitude, found.longitude) == geo.province_centroid(48)
    assert "Đà Nẵng" in found.address
    assert geo.ProvinceGeocoder().geocode("Đà Nẵng", exactly_one=False) == [found]


@pytest.mark.parametrize("code", PROVINCE_CODES)
def test_reverse_of_centroid_is_that_province(code: int) -> None:
    found = geo.ProvinceGeocoder().reverse(geo.province_centroid(code))
    assert isinstance(found, Location)
    assert found.raw["province_code"] == code


def test_reverse_many_ranks_by_distance() -> None:
    found = geo.ProvinceGeocoder().reverse("10.95, 106.84", exactly_one=False)
    assert isinstance(found, list)
    assert found[0].raw["province_code"] == 75
    distances = [loc.raw["distance_km"] for loc in found]
    assert distances == sorted(distances) and len(found) == 34


def test_geocoder_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access")

    for owner, name in ((socket.socket, "connect"), (socket, "create_connection"), (socket, "getaddrinfo")):
        monkeypatch.setattr(owner, name, refuse)
    assert geo.ProvinceGeocoder().geocode("Cần Thơ") is not None
    assert geo.ProvinceGeocoder().reverse((10.0, 105.7)) is not None
