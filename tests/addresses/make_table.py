"""Writes old_addresses.csv: old (pre-2025) addresses as customers type them, with the 2025 ward each must give.

Run once, by hand, after the converter's data changes: `python -m tests.addresses.make_table`. The table is
committed; the test reads it and never calls this.

How the expected ward is built, independently of the service's resolver:
- from vietnam-address-converter's raw mapping rows (old province, district, ward -> 2025 ward names), not from
  orders_service/geo/data/legacy.json nor its name matching;
- each 2025 ward name of a row is turned into its official code by an exact, accented, whitespace-normalised
  name lookup in vietnam-provinces within the row's 2025 province; a row whose 2025 ward has no such exact
  official match is left out of the table;
- an old ward the converter sends to several 2025 wards is expected "ambiguous"; without a district, the
  address is the 2025 two-level form: a 2025 ward of that name (one that took in part of the old province) is
  expected, else every ward the old wards of that name became (several: "ambiguous");
- HAND below lists addresses whose 2025 ward was written from well-known cases (Bến Nghé -> Sài Gòn, Thảo Điền
  -> An Khánh, Phú Cường -> Thủ Dầu Một), not from the converter's data.
Every one of the 63 old provinces gets at least five rows, in rotating forms: full names with accents,
abbreviations (P., Q., TX., TP., H., TT., X., TP.HCM, HN), no accents, no commas, the names shape, without a
district, and the 2025 form.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections import defaultdict
from pathlib import Path

from vietnam_provinces import Province, Ward

TABLE = Path(__file__).with_name("old_addresses.csv")
STREETS = [
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Nguyễn Văn Cừ",
    "Phan Chu Trinh",
    "Lê Duẩn",
    "Điện Biên Phủ",
    "Nguyễn Thị Minh Khai",
    "Bạch Đằng",
    "Hùng Vương",
]
RURAL = ["Thôn 3", "Ấp Bình An", "Xóm Đình", "Bản Nà Sài", "Tổ 5", "Khu phố 2"]
# (text, expected 2025 ward name, 2025 province code), checked by hand (see the docstring).
HAND = [
    ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM", "Phường Sài Gòn", 79),
    ("65 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh", "Phường Bến Thành", 79),
    ("12 Trần Não, P. Thảo Điền, TP Thủ Đức, TP.HCM", "Phường An Khánh", 79),
    ("3 Yersin, P. Phú Cường, TP. Thủ Dầu Một, Bình Dương", "Phường Thủ Dầu Một", 79),
    ("10 Tràng Tiền, P. Tràng Tiền, Q. Hoàn Kiếm, HN", "ambiguous", 1),  # split: Hoàn Kiếm and Cửa Nam
    ("20 Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội", "Phường Hoàn Kiếm", 1),
    ("1 Kim Mã, P. Kim Mã, Q. Ba Đình, HN", "ambiguous", 1),
    ("5 Hoàng Hoa Thám, Phường Vĩnh Phúc, Quận Ba Đình, Hà Nội", "Phường Ngọc Hà", 1),
    ("8 Dịch Vọng Hậu, P. Dịch Vọng Hậu, Q. Cầu Giấy, Hà Nội", "ambiguous", 1),
]


def _nfc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _abbrev(name: str) -> str:
    for full, short in (
        ("Thị trấn ", "TT. "),
        ("Thị xã ", "TX. "),
        ("Thành phố ", "TP. "),
        ("Phường ", "P. "),
        ("Quận ", "Q."),
        ("Huyện ", "H. "),
        ("Xã ", "X. "),
        ("Tỉnh ", ""),
    ):
        if name.lower().startswith(full.lower()):
            rest = name[len(full) :]
            return (short.strip() + rest) if rest.isdigit() else short + rest
    return name


def _province_short(name: str) -> str:
    return {"Thành Phố Hồ Chí Minh": "TP.HCM", "Thành Phố Hà Nội": "HN"}.get(name, _abbrev(name))


def main() -> None:
    from vietnam_address_converter.data import DEFAULT_DATA

    official_province = {_fold(p.name.replace("Thành phố ", "")).lower(): int(p.code) for p in Province.iter_all()}
    official = {(int(w.province_code), _nfc(w.name)): int(w.code) for w in Ward.iter_all()}
    new_names = defaultdict(set)  # (2025 province, folded bare name) -> codes: for the no-district forms
    for w in Ward.iter_all():
        bare = _nfc(w.name).split(" ", 1)[1] if " " in w.name else w.name
        new_names[(int(w.province_code), bare.lower())].add(int(w.code))
    targets: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    skipped: set[tuple[str, str, str]] = set()
    province_of: dict[str, int] = {}
    for row in DEFAULT_DATA["mapping"]["rows"]:
        old, new = row["old"], row["new"]
        key = (_nfc(old["province_name"]), _nfc(old["district_name"]), _nfc(old["ward_name"]))
        province = official_province[
            _fold(
                _nfc(new["province_name"]).replace("Thành Phố ", "").replace("Thành phố ", "").replace("Tỉnh ", "")
            ).lower()
        ]
        province_of[key[0]] = province
        code = official.get((province, _nfc(new["ward_name"])))
        if code is None:
            skipped.add(key)
        else:
            targets[key].add(code)
    by_province: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    same_name: dict[tuple[str, str], set[int]] = defaultdict(set)
    for key, codes in targets.items():
        if key not in skipped:
            by_province[key[0]].append(key)
        bare = key[2].split(" ", 1)[1] if key[2].startswith(("Phường ", "Xã ")) else key[2]
        same_name[(key[0], bare.lower())] |= codes
    rng = random.Random(19)
    out = []
    for text, name, province in HAND:
        code = "ambiguous" if name == "ambiguous" else official[(province, name)]
        out.append(
            {
                "form": "hand",
                "old_province": "",
                "text": text,
                "line": "",
                "ward": "",
                "district": "",
                "province": "",
                "expected": code,
                "province_code": province,
            }
        )
    forms = ["full", "abbrev", "folded", "names", "no_district", "nocomma", "new"]
    official_name = {int(w.code): _nfc(w.name) for w in Ward.iter_all()}
    province_name = {int(p.code): p.name for p in Province.iter_all()}
    for n, (_, keys) in enumerate(sorted(by_province.items())):
        split = [k for k in keys if len(targets[k]) > 1]
        picked = rng.sample(sorted(keys), 5) + ([rng.choice(sorted(split))] if split and n % 2 == 0 else [])
        for i, (prov, district, ward) in enumerate(picked):
            form = forms[(n + i) % len(forms)]
            codes = targets[(prov, district, ward)]
            if form == "new" and len(codes) != 1:
                form = "full"  # the 2025 form of a split ward is one of its new wards: nothing to test
            line = (
                f"{rng.randint(1, 200)} {rng.choice(STREETS)}" if ward.startswith("Phường") else f"{rng.choice(RURAL)}"
            )
            bare = ward.split(" ", 1)[1] if ward.startswith(("Phường ", "Xã ")) else ward
            if form == "no_district":
                # Read as the 2025 form first: a 2025 ward by that name that took in part of the old province;
                # else every ward the old wards of that name became. Accented, as these rows are typed.
                reach = {c for k in by_province[prov] for c in targets[k]}
                new = new_names[(province_of[prov], bare.lower())]
                bare_province = _fold(prov.replace("Thành Phố ", "").replace("Tỉnh ", "")).lower()
                whole = bare_province in official_province  # the old name is also a 2025 province's
                codes = (new if whole else new & reach) or same_name[(prov, bare.lower())]
            expected = next(iter(codes)) if len(codes) == 1 else "ambiguous"
            row = {
                "form": form,
                "old_province": prov,
                "text": "",
                "line": "",
                "ward": "",
                "district": "",
                "province": "",
                "expected": expected,
                "province_code": province_of[prov],
            }
            if form == "full":
                row["text"] = f"{line}, {ward}, {district}, {prov}"
            elif form == "abbrev":
                row["text"] = f"{line}, {_abbrev(ward)}, {_abbrev(district)}, {_province_short(prov)}"
            elif form == "folded":
                row["text"] = _fold(f"{line}, {_abbrev(ward)}, {district}, {prov}").lower()
            elif form == "names":
                row.update(line=line, ward=bare, district=_fold(district), province=_province_short(prov))
            elif form == "no_district":
                row["text"] = f"{line}, {ward}, {prov}"
            elif form == "nocomma":
                row["text"] = _fold(f"{line} {_abbrev(ward)} {_abbrev(district)} {_province_short(prov)}")
            else:
                code = next(iter(codes))
                row["text"] = f"{line}, {official_name[code]}, {province_name[province_of[prov]]}"
            out.append(row)
    with TABLE.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    print(f"wrote {len(out)} rows, {len(by_province)} old provinces, {len(skipped)} old wards left out")


if __name__ == "__main__":
    main()
