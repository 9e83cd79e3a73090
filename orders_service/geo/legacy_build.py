"""Builds data/legacy.json, the pre-2025 units and the 2025 wards each became, from vietnam-address-converter.

Run after upgrading the converter: `python -m orders_service.geo.legacy_build` (rewrites the file; a test checks
that the shipped file is what this builds). The converter's own codes are not the official ones, so each 2025
ward is matched to its official code (vietnam-provinces) by province and exact name, accents included ("Xã Sơn
Hà" and "Xã Sơn Hạ" are two wards). Where the converter is wrong or silent, data/legacy_corrections.json says
so, with a source per entry; nothing here corrects by code.

The service reads the built file, not the converter: the converter's tables take some 65 MB once parsed, the
built file a few MB, and a worker does not parse 10 MB of Python source to start.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

from vietnam_provinces import Province, Ward

from orders_service.geo.names import bare_official, index_keys, words

DATA = Path(__file__).with_name("data")
BUILT = DATA / "legacy.json"
CORRECTIONS = DATA / "legacy_corrections.json"


class BuildError(RuntimeError):
    """The converter names a 2025 unit that the official list does not have, and no correction says which."""


def _official_wards() -> dict[tuple[int, str], list[int]]:
    found: dict[tuple[int, str], list[int]] = defaultdict(list)
    for ward in Ward.iter_all():
        accented, _ = index_keys(" ".join(ward.name.split()))[0]
        found[(int(ward.province_code), accented)].append(int(ward.code))
    return found


def _official_provinces() -> dict[str, int]:
    return {" ".join(words(bare_official(p.name)).folded): int(p.code) for p in Province.iter_all()}


def build(data: dict[str, Any], corrections: dict[str, Any], converter_version: str) -> dict[str, Any]:
    """The compact table: old provinces (with their 2025 province), old districts, old wards (with 2025 wards)."""
    provinces_by_key = _official_provinces()
    wards_by_key = _official_wards()
    fixed_new = {(c["province_code"], c["converter_name"]): c["ward_code"] for c in corrections.get("new_wards", [])}
    fixed_old = {tuple(c["old"]): c["ward_codes"] for c in corrections.get("old_wards", [])}

    def province_code(name: str) -> int:
        key = " ".join(words(bare_official(name)).folded)
        if key not in provinces_by_key:
            raise BuildError(f"2025 province {name!r} of the converter is not an official province")
        return provinces_by_key[key]

    def ward_code(province: int, name: str) -> int:
        clean = " ".join(name.split())
        if (province, clean) in fixed_new:
            return int(fixed_new[(province, clean)])
        hits = wards_by_key.get((province, index_keys(clean)[0][0]), [])
        if len(hits) != 1:
            raise BuildError(f"2025 ward {name!r} in province {province}: {len(hits)} official wards by that name")
        return hits[0]

    provinces: dict[str, list[Any]] = {}
    districts: dict[tuple[str, str], int] = {}
    wards: dict[tuple[int, str], set[int]] = defaultdict(set)
    for row in data["mapping"]["rows"]:
        old, new = row["old"], row["new"]
        new_province = province_code(new["province_name"])
        old_province = " ".join(old["province_name"].split())
        known = provinces.setdefault(old_province, [old_province, new_province])
        if known[1] != new_province:
            raise BuildError(f"old province {old_province} is mapped to two 2025 provinces")
        district_key = (old_province, " ".join(old["district_name"].split()))
        district = districts.setdefault(district_key, len(districts))
        wards[(district, " ".join(old["ward_name"].split()))].add(ward_code(new_province, new["ward_name"]))
    province_index = {name: i for i, name in enumerate(provinces)}
    district_rows = [[province_index[p], d] for (p, d), _ in sorted(districts.items(), key=lambda item: item[1])]
    district_names = {i: (p, d) for (p, d), i in districts.items()}
    ward_rows = []
    for (district, name), codes in sorted(wards.items()):
        key = (*district_names[district], name)
        ward_rows.append([district, name, sorted(fixed_old.get(key, codes))])
    return {
        "source": {
            "package": "vietnam-address-converter",
            "version": converter_version,
            "dataset": data["mapping"]["meta"],
            "corrections": CORRECTIONS.name,
            "codes": "official 2025 codes from vietnam-provinces, matched by province and exact ward name",
        },
        "provinces": list(provinces.values()),
        "districts": district_rows,
        "wards": ward_rows,
    }


def build_from_installed() -> dict[str, Any]:
    from vietnam_address_converter.data import DEFAULT_DATA

    corrections = json.loads(CORRECTIONS.read_text(encoding="utf-8"))
    return build(DEFAULT_DATA, corrections, metadata.version("vietnam-address-converter"))


def dumps(table: dict[str, Any]) -> str:
    # One unit a line: a converter upgrade reads as a diff of the wards that moved.
    head = {"source": table["source"]}
    parts = [json.dumps(head, ensure_ascii=False)[:-1]]
    for key in ("provinces", "districts", "wards"):
        rows = ",\n".join(json.dumps(row, ensure_ascii=False) for row in table[key])
        parts.append(f', "{key}": [\n{rows}\n]')
    return "".join(parts) + "}\n"


def main() -> int:
    BUILT.write_text(dumps(build_from_installed()), encoding="utf-8")
    print(f"wrote {BUILT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
