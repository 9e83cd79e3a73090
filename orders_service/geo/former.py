"""The pre-2025 units a 2025 ward was made of, for couriers that still address by district (GHTK "district mode").

Read from the same table the resolver uses (data/legacy.json, built from vietnam-address-converter), turned the
other way: 2025 ward -> the old wards that went into it. When they came from several old districts, the one that
gave the most wards is the ward's district for couriers, then the one holding an old ward of the same name (the
ward that gave the 2025 one its name), then the first by name. An admin's own mapping for a courier
(`PUT /api/couriers/{courier}/addresses/{ward_code}`) overrides these names key by key.

GHN addresses by its own numeric district and ward ids, which no public dataset gives: they are loaded per ward
through that same endpoint (see README, "Couriers that still address by district").
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache

from orders_service.geo.names import bare_official, words
from orders_service.geo.resolve import DATA
from orders_service.geo.units import find_ward


@dataclass(frozen=True)
class FormerUnits:
    province_name: str  # the old province ("Tỉnh Bình Dương")
    district_name: str  # the old district couriers are sent ("Quận 1", "Thành phố Thủ Dầu Một")
    ward_name: str  # an old ward of that district that went into the 2025 ward
    districts: tuple[str, ...]  # every old district that gave part of the 2025 ward


def _same_name(old: str, new: str) -> bool:
    return words(bare_official(old)).accented == words(bare_official(new)).accented


@cache
def _by_ward() -> dict[int, FormerUnits]:
    legacy = json.loads((DATA / "legacy.json").read_text(encoding="utf-8"))
    parts: dict[int, list[tuple[int, str]]] = defaultdict(list)  # 2025 ward -> (old district, old ward)
    for district, ward, codes in legacy["wards"]:
        for code in codes:
            parts[code].append((district, ward))
    out: dict[int, FormerUnits] = {}
    for code, old in parts.items():
        units = find_ward(code)
        assert units is not None  # the build matched every 2025 ward to an official code
        count = Counter(district for district, _ in old)
        most = max(count.values())
        tied = [district for district in count if count[district] == most]
        if len(tied) > 1:  # the district holding the old ward the 2025 one is named after, then by name
            named = {district for district, ward in old if district in tied and _same_name(ward, units.ward_name)}
            tied.sort(key=lambda d, named=named: (0 if d in named else 1, legacy["districts"][d][1]))  # type: ignore[misc]
        chosen = tied[0]
        wards = sorted(ward for district, ward in old if district == chosen)
        ward = next((w for w in wards if _same_name(w, units.ward_name)), wards[0])
        province_index, district_name = legacy["districts"][chosen]
        out[code] = FormerUnits(
            province_name=legacy["provinces"][province_index][0],
            district_name=district_name,
            ward_name=ward,
            districts=tuple(sorted({legacy["districts"][d][1] for d in count})),
        )
    return out


def former_units(ward_code: int) -> FormerUnits | None:
    """The old units of a 2025 ward, or None when the table has none (a ward the converter is silent on)."""
    return _by_ward().get(ward_code)


def courier_names(ward_code: int) -> dict[str, str]:
    """The names a district-based courier is sent for the ward: `district_name` (what GHTK's district mode reads),
    and the old ward and province for an adapter that wants them. Empty when the table has none."""
    units = former_units(ward_code)
    if units is None:
        return {}
    return {
        "district_name": units.district_name,
        "old_ward_name": units.ward_name,
        "old_province_name": units.province_name,
    }
