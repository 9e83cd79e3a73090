"""Addresses as customers type them, old (province, district, ward) or 2025 (province, ward), to 2025 codes.

Three shapes come in: codes `{line, ward_code, province_code}`, names `{line, ward, district?, province}` and a
line of text `{text}` ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"). Names and text are looked up in the 2025 units
(vietnam-provinces) and in the pre-2025 units with the 2025 wards each became (data/legacy.json, built from
vietnam-address-converter). A wrong ward is worse than a refusal: whatever fits no 2025 ward, or several (an old
ward split between new ones, a name two wards share once its accents are gone), is refused with the field and
the wards it could be.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orders_service.domain.errors import InvalidField
from orders_service.geo.names import Kind, Words, index_keys, lookup_keys, words
from orders_service.geo.units import find_ward, province_name, provinces, resolve_units
from orders_service.geo.units import wards as wards_of

DATA = Path(__file__).with_name("data")
MAX_CANDIDATES = 25
MAX_SPAN = 7  # words in one unit's name, its type word included ("Thị trấn Nông trường Mộc Châu")


@dataclass(frozen=True)
class Candidate:
    ward_code: int
    province_code: int
    name: str  # "Phường Sài Gòn, Thành phố Hồ Chí Minh"


class AddressUnresolved(InvalidField):
    """Text or names that fit no 2025 ward, or several: the field, why, and the wards it could be."""

    def __init__(self, field: str, message: str, candidates: Iterable[int] = ()) -> None:
        super().__init__(field, message)
        self.candidates = [_candidate(code) for code in sorted(set(candidates))[:MAX_CANDIDATES]]


@dataclass(frozen=True)
class Resolved:
    line: str
    ward_code: int
    province_code: int
    ward_name: str
    province_name: str
    input: str | None  # what was typed; None for codes


def at(field: str, name: str) -> str:
    """`address` + `text` -> `address.text`; at the root of a body (field ""), just `text`."""
    return f"{field}.{name}" if field else name


def _candidate(code: int) -> Candidate:
    units = find_ward(code)
    assert units is not None  # only codes of the tables come here
    return Candidate(code, units.province_code, f"{units.ward_name}, {units.province_name}")


class _Index:
    """Names to ids, by accented key first (Sơn Hà is not Sơn Hạ), then folded (typed without accents)."""

    def __init__(self) -> None:
        self.accented: dict[str, set[int]] = defaultdict(set)
        self.folded: dict[str, set[int]] = defaultdict(set)

    def add(self, name: str, ident: int) -> None:
        for accented, folded in index_keys(name):
            self.accented[accented].add(ident)
            self.folded[folded].add(ident)

    def find(self, typed: Words, kind: Kind) -> set[int]:
        for accented, folded in lookup_keys(typed, kind):
            if accented in self.accented:
                return self.accented[accented]
            if folded in self.folded:
                return self.folded[folded]
        return set()


@dataclass
class _Tables:
    provinces: _Index  # ids: 2025 code, or -1 - old province index
    old_to_new: list[int]  # old province index -> 2025 province code
    old_of_new: dict[int, list[int]]  # 2025 province code -> its old provinces
    districts: dict[int, _Index]  # old province index -> its districts (ids: district index)
    district_province: list[int]
    district_names: list[str]
    old_wards: dict[int, _Index]  # district index -> its old wards (ids: old ward index)
    old_wards_by_province: dict[int, _Index]  # old province index -> every old ward of it
    ward_targets: list[list[int]]  # old ward index -> the 2025 ward codes it became
    new_wards: dict[int, _Index]  # 2025 province code -> its wards (ids: 2025 codes)


@cache
def tables() -> _Tables:
    legacy = json.loads((DATA / "legacy.json").read_text(encoding="utf-8"))
    aliases = json.loads((DATA / "province_aliases.json").read_text(encoding="utf-8"))["aliases"]
    province_index = _Index()
    by_name: dict[str, int] = {}
    for code, name in provinces():
        province_index.add(name, code)
        by_name[name.casefold()] = code
    old_to_new = []
    old_of_new: dict[int, list[int]] = defaultdict(list)
    for i, (name, new_code) in enumerate(legacy["provinces"]):
        province_index.add(name, -1 - i)
        by_name.setdefault(name.casefold(), -1 - i)
        old_to_new.append(int(new_code))
        old_of_new[int(new_code)].append(i)
    for alias, name in aliases.items():
        province_index.add(alias, by_name[name.casefold()])
    districts: dict[int, _Index] = defaultdict(_Index)
    district_province, district_names = [], []
    for i, (province, name) in enumerate(legacy["districts"]):
        districts[province].add(name, i)
        district_province.append(province)
        district_names.append(name)
    old_wards: dict[int, _Index] = defaultdict(_Index)
    old_wards_by_province: dict[int, _Index] = defaultdict(_Index)
    targets = []
    for i, (district, name, codes) in enumerate(legacy["wards"]):
        old_wards[district].add(name, i)
        old_wards_by_province[district_province[district]].add(name, i)
        targets.append(list(codes))
    new_wards: dict[int, _Index] = defaultdict(_Index)
    for code, _ in provinces():
        for ward_code, ward_name in wards_of(code):
            new_wards[code].add(ward_name, ward_code)
    return _Tables(
        province_index,
        old_to_new,
        dict(old_of_new),
        dict(districts),
        district_province,
        district_names,
        dict(old_wards),
        dict(old_wards_by_province),
        targets,
        dict(new_wards),
    )


@dataclass(frozen=True)
class _Province:
    code: int  # 2025
    old: tuple[int, ...]  # the old provinces the name may mean (all of the 2025 one's, for a 2025 name)
    whole: bool  # the name is the 2025 province's: its 2025 wards are all in scope


def _province(typed: Words) -> _Province | list[int] | None:
    """The province the words name; None for none; the 2025 codes when they name several."""
    t = tables()
    hits = t.provinces.find(typed, Kind.PROVINCE)
    if not hits:
        return None
    codes = {h if h >= 0 else t.old_to_new[-1 - h] for h in hits}
    if len(codes) > 1:
        return sorted(codes)
    code = codes.pop()
    if any(h >= 0 for h in hits):
        return _Province(code, tuple(t.old_of_new.get(code, [])), whole=True)
    return _Province(code, tuple(-1 - h for h in hits), whole=False)


def _districts(province: _Province, typed: Words) -> set[int]:
    t = tables()
    found: set[int] = set()
    for old in province.old:
        found |= t.districts[old].find(typed, Kind.DISTRICT)
    return found


def _wards(province: _Province, districts: set[int] | None, typed: Words) -> set[int]:
    """The 2025 wards the words may name.

    With a district, the old wards of that district by that name (or a 2025 ward the district became part of:
    "Phường Sài Gòn, Quận 1"). Without one, the address is read as the 2025 two-level form first: a 2025 ward
    by that name (one that took in part of the old province, when an old province was typed); only when there
    is none, the old wards of the province by that name, every ward they became.
    """
    t = tables()
    new = t.new_wards[province.code].find(typed, Kind.WARD)
    if districts is not None:
        reachable = _district_reach(districts)
        found = {code for d in districts for i in t.old_wards[d].find(typed, Kind.WARD) for code in t.ward_targets[i]}
        return found or (new & reachable)
    if new and province.whole:
        return new
    if new:
        inside = new & {code for p in province.old for code in _province_reach(p)}
        if inside:
            return inside
    old = {i for p in province.old for i in t.old_wards_by_province[p].find(typed, Kind.WARD)}
    return {code for i in old for code in t.ward_targets[i]}


@cache
def _province_reach(old_province: int) -> frozenset[int]:
    t = tables()
    return frozenset(
        code
        for d, p in enumerate(t.district_province)
        if p == old_province
        for i in _all_wards(d)
        for code in t.ward_targets[i]
    )


@cache
def _district_wards() -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    legacy = json.loads((DATA / "legacy.json").read_text(encoding="utf-8"))
    for i, (district, _, _) in enumerate(legacy["wards"]):
        grouped[district].append(i)
    return dict(grouped)


def _all_wards(district: int) -> list[int]:
    return _district_wards().get(district, [])


def _district_reach(districts: set[int]) -> set[int]:
    t = tables()
    return {code for d in districts for i in _all_wards(d) for code in t.ward_targets[i]}


def _one(codes: set[int], field: str, what: str, fallback: set[int] | None = None) -> int:
    if len(codes) == 1:
        return next(iter(codes))
    if codes:
        raise AddressUnresolved(field, f"{what} may be any of {len(codes)} wards since 1 July 2025", codes)
    raise AddressUnresolved(field, f"no ward is called {what}", fallback or ())


def _resolved(line: str, ward_code: int, typed: str | None) -> Resolved:
    units = find_ward(ward_code)
    assert units is not None
    return Resolved(line, ward_code, units.province_code, units.ward_name, units.province_name, typed)


def _need_province(typed: Words, field: str, text: str) -> _Province:
    found = _province(typed)
    if found is None:
        raise AddressUnresolved(field, f"no province is called {text!r}")
    if isinstance(found, list):
        names = ", ".join(province_name(code) for code in found)
        raise AddressUnresolved(field, f"{text!r} may be any of these provinces: {names}")
    return found


def resolve_names(line: str, ward: str, province: str, district: str | None = None, field: str = "address") -> Resolved:
    """`{line, ward, district?, province}` of old units or 2025 ones to a 2025 ward; AddressUnresolved else."""
    typed = ", ".join(part for part in (line, ward, district, province) if part)
    where = _need_province(words(province), at(field, "province"), province)
    districts = None
    if district is not None and district.strip():
        districts = _districts(where, words(district))
        if not districts:
            raise AddressUnresolved(at(field, "district"), f"no district called {district!r} in {province!r}")
    codes = _wards(where, districts, words(ward))
    fallback = _district_reach(districts) if districts else None
    return _resolved(line.strip(), _one(codes, at(field, "ward"), repr(ward), fallback), typed)


def resolve_codes(line: str, ward_code: int, province_code: int) -> Resolved:
    units = resolve_units(province_code, ward_code)
    return Resolved(line, units.ward_code, units.province_code, units.ward_name, units.province_name, None)


# --- free text ---------------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s*(?:[,;\n|]|\s[-–]\s)\s*")


@dataclass(frozen=True)
class _Token:
    folded: str
    accented: str
    start: int  # offsets in the text of the word it comes from
    end: int
    segment: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    for segment, part in enumerate(_SEPARATORS.split(text)):
        start = text.find(part, position) if part else position
        position = start + len(part)
        for match in re.finditer(r"\w+", part):
            typed = words(match.group())
            for folded, accented in zip(typed.folded, typed.accented, strict=True):
                out.append(_Token(folded, accented, start + match.start(), start + match.end(), segment))
    return out


def _as_words(tokens: list[_Token]) -> Words:
    return Words(tuple(t.folded for t in tokens), tuple(t.accented for t in tokens))


def _spans(tokens: list[_Token], end: int, *, whole_or_typed: bool) -> Iterable[int]:
    """Starts of the spans ending at `end` inside one segment, longest first. With `whole_or_typed`, only a
    span that is its whole segment or opens with a type word ("P.", "Quận"): a bare name inside a longer
    segment may be the street's ("12 Trần Phú" is no ward)."""
    if end <= 0:
        return
    segment = tokens[end - 1].segment
    first = end - 1
    while first > 0 and tokens[first - 1].segment == segment and end - first < MAX_SPAN:
        first -= 1
    for start in range(first, end):
        whole = start == 0 or tokens[start - 1].segment != segment
        if not whole_or_typed or whole or _typed_unit(tokens[start:end]):
            yield start


def _typed_unit(span: list[_Token]) -> bool:
    keys = lookup_keys(_as_words(span), Kind.WARD) + lookup_keys(_as_words(span), Kind.DISTRICT)
    return len(span) > 1 and any(len(key[1]) < len(" ".join(t.folded for t in span)) for key in keys)


def resolve_text(text: str, field: str = "address.text") -> Resolved:
    """ "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM" (or the 2025 form, or without accents) to a 2025 ward."""
    text = unicodedata.normalize("NFC", text)
    tokens = _tokens(text)
    if not tokens:
        raise AddressUnresolved(field, "the address is empty")
    province = None
    end = len(tokens)
    for start in _spans(tokens, end, whole_or_typed=False):
        found = _province(_as_words(tokens[start:end]))
        if found is not None:
            province = _need_province(_as_words(tokens[start:end]), field, text)
            end = start
            break
    if province is None:
        raise AddressUnresolved(field, "no province found at the end of the address")
    districts: set[int] | None = None
    for start in _spans(tokens, end, whole_or_typed=True):
        found_districts = _districts(province, _as_words(tokens[start:end]))
        if found_districts and start > 0:
            districts, end = found_districts, start
            break
    codes: set[int] = set()
    ward_start = None
    for start in _spans(tokens, end, whole_or_typed=True):
        codes = _wards(province, districts, _as_words(tokens[start:end]))
        if codes:
            ward_start = start
            break
    if ward_start is None:
        fallback = _district_reach(districts) if districts else None
        raise AddressUnresolved(field, "no ward found before the district and province", fallback or ())
    line = text[: tokens[ward_start].start].rstrip(" ,;|-–\n\t")
    what = text[tokens[ward_start].start : tokens[end - 1].end]
    return _resolved(line, _one(codes, field, repr(what)), text)
