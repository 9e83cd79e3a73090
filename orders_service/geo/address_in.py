"""An address as it comes in (codes, names or text) and what it becomes: the domain's Address in 2025 codes.

Every door an address comes through (order create, `set_address`, the customer page, the dashboard, imports and
`POST /api/addresses/resolve`) takes `AddressIn` and calls `to_address`, so they all accept the same shapes and
refuse the same way: a 422 naming the field, with the wards it could be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from orders_service.domain.errors import InvalidField
from orders_service.domain.model import (
    ONE_LINE,
    Address,
    AddressInput,
    AddressLine,
    ProvinceCode,
    WardCode,
)
from orders_service.geo.resolve import Candidate, Resolved, at, resolve_codes, resolve_names, resolve_text

UnitName = Annotated[str, Meta(min_length=1, max_length=100, pattern=ONE_LINE)]
AddressText = AddressInput  # one or several lines, up to 300 characters


class AddressIn(Struct, forbid_unknown_fields=True):
    """One of: `{line, ward_code, province_code}` (2025 codes); `{line, ward, district?, province}` (names of old
    or 2025 units, accents and abbreviations optional); `{text}` ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM")."""

    line: AddressLine | None = None
    ward_code: WardCode | None = None
    province_code: ProvinceCode | None = None
    ward: UnitName | None = None
    district: UnitName | None = None
    province: UnitName | None = None
    text: AddressText | None = None


_COLUMNS = frozenset(AddressIn.__struct_fields__)


class AddressOut(Struct):
    """What an address resolved to: 2025 codes and names, and what was typed."""

    line: str
    ward_code: int
    province_code: int
    ward_name: str
    province_name: str
    input: str | None


def _shape(value: AddressIn, field: str) -> str:
    codes = value.ward_code is not None or value.province_code is not None
    names = value.ward is not None or value.province is not None or value.district is not None
    text = value.text is not None
    if codes + names + text != 1:
        raise InvalidField(
            field or "body",
            "give one of: the 2025 codes (ward_code, province_code), names (ward, district?, province), or text",
        )
    if text:
        if value.line is not None:
            raise InvalidField(at(field, "line"), "with `text`, the street and number are part of the text")
        return "text"
    if value.line is None:
        raise InvalidField(at(field, "line"), "the house number and street are required")
    for name, present in (
        (
            ("ward_code", value.ward_code),
            ("province_code", value.province_code),
        )
        if codes
        else (("ward", value.ward), ("province", value.province))
    ):
        if present is None:
            raise InvalidField(at(field, name), "required with " + ("codes" if codes else "names"))
    return "codes" if codes else "names"


def resolve_in(value: AddressIn, field: str = "address") -> Resolved:
    """The 2025 ward of an address in any shape; InvalidField (AddressUnresolved: with candidates) names the field."""
    shape = _shape(value, field)
    if shape == "text":
        assert value.text is not None
        resolved = resolve_text(value.text, at(field, "text"))
        if not " ".join(resolved.line.split()):
            raise InvalidField(at(field, "text"), "the house number and street must come before the ward")
        return resolved
    assert value.line is not None
    if shape == "codes":
        assert value.ward_code is not None and value.province_code is not None
        return _codes(value.line, value.ward_code, value.province_code, field)
    assert value.ward is not None and value.province is not None
    return resolve_names(value.line, value.ward, value.province, value.district, field)


def _codes(line: str, ward_code: int, province_code: int, field: str) -> Resolved:
    from orders_service.geo.units import AddressError

    try:
        return resolve_codes(line, ward_code, province_code)
    except AddressError as error:
        raise InvalidField(at(field, error.field), error.message) from None


def to_address(value: AddressIn, field: str = "address") -> Address:
    """The domain's Address (2025 codes, the line, what was typed) for an address in any shape."""
    if _shape(value, field) == "codes":  # checked by the domain, which names the field as it always has
        assert value.line is not None and value.ward_code is not None and value.province_code is not None
        return Address(line=value.line, ward_code=value.ward_code, province_code=value.province_code)
    resolved = resolve_in(value, field)
    typed = resolved.input[:300] if resolved.input else None
    line = " ".join(resolved.line.split())[:200]  # text may hold newlines; a line holds none
    return Address(line=line, ward_code=resolved.ward_code, province_code=resolved.province_code, input=typed)


def address_from_fields(fields: Mapping[str, str | int | None], field: str = "address") -> Address:
    """An address from flat columns (an import's row: `text`, or `line` + `ward` + `district` + `province`, or
    `line` + `ward_code` + `province_code`), blank ones left out; InvalidField names `field.<column>`."""
    given = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items() if k in _COLUMNS}
    given = {k: v for k, v in given.items() if v not in (None, "")}
    for code in ("ward_code", "province_code"):
        value = given.get(code)
        if isinstance(value, str):
            if not value.isdigit() or len(value) > 6:
                raise InvalidField(at(field, code), "must be a whole number")
            given[code] = int(value)
    try:
        address = msgspec.convert(given, AddressIn)
    except msgspec.ValidationError as error:
        raise InvalidField(field or "body", str(error)) from None
    return to_address(address, field)


def address_out(resolved: Resolved) -> AddressOut:
    return AddressOut(
        line=resolved.line,
        ward_code=resolved.ward_code,
        province_code=resolved.province_code,
        ward_name=resolved.ward_name,
        province_name=resolved.province_name,
        input=resolved.input,
    )


def candidates_json(candidates: list[Candidate]) -> list[dict[str, Any]]:
    return [{"ward_code": c.ward_code, "province_code": c.province_code, "name": c.name} for c in candidates]
