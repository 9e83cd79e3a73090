"""The page's plain form, read into the same typed operations the JSON API takes (pure, no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from orders_service.domain import operations as ops
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import Line, Order
from orders_service.domain.phones import normalise_phones
from orders_service.geo.address_in import AddressIn, to_address
from orders_service.links.rules import Variant

PHONE_FIELDS = ("phone1", "phone2", "phone3")
# What is not part of the change itself, and so not of the digest that proves she saw its amount.
_CONTROL_FIELDS = frozenset({"_csrf_token", "action", "previewed", "version"})


class FormError(InvalidField):
    """A form value that cannot be used; `field` is the page's section (recipient, address, line-<id>)."""


def variant_value(variant: Variant) -> str:
    """The <option> value naming a variant: its size and colour, as JSON (either may be absent)."""
    return msgspec.json.encode([variant.size, variant.color]).decode()


def form_digest(form: Mapping[str, str]) -> str:
    """A digest of the change in the form: a confirm is only taken for the change whose amount she saw."""
    items = sorted((k, v) for k, v in form.items() if k not in _CONTROL_FIELDS)
    return hashlib.sha256(msgspec.json.encode(items)).hexdigest()[:32]


def _op(section: str, raw: dict[str, Any]) -> ops.Operation:
    try:
        return msgspec.convert(raw, ops.Operation)
    except msgspec.ValidationError as error:
        raise FormError(section, str(error)) from None


def _number(form: Mapping[str, str], name: str, section: str) -> int:
    raw = form.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 6:
        raise FormError(section, f"{name} must be a whole number")
    return int(raw)


def _recipient(order: Order, form: Mapping[str, str]) -> list[tuple[str, ops.Operation]]:
    name = form.get("name", "").strip()
    raw_phones = [form.get(field, "").strip() for field in PHONE_FIELDS]
    try:
        phones = tuple(normalise_phones([p for p in raw_phones if p], "phones", vietnam_only=True))
    except InvalidField as error:
        raise FormError("recipient", error.message) from None
    changed: dict[str, Any] = {}
    if name != order.recipient.name:
        changed["name"] = name
    if phones != order.recipient.phones:
        changed["phones"] = list(phones)
    return [("recipient", _op("recipient", {"op": "set_recipient", **changed}))] if changed else []


def _typed_address(order: Order, text: str) -> list[tuple[str, ops.Operation]]:
    """The address typed whole ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"), old units or new, resolved to 2025 codes;
    one that fits no ward or several is refused with the wards it could be."""
    try:
        address = to_address(AddressIn(text=text[:300]), "address")
    except InvalidField as error:
        names = [c.name for c in getattr(error, "candidates", [])]
        raise FormError("address", error.message + (": " + "; ".join(names) if names else "")) from None
    current = order.recipient.address
    if (address.line, address.ward_code, address.province_code) == (
        current.line,
        current.ward_code,
        current.province_code,
    ):
        return []
    return [("address", ops.SetAddress(address=address))]


def _address(order: Order, form: Mapping[str, str]) -> list[tuple[str, ops.Operation]]:
    text = " ".join(form.get("address_text", "").split())
    if text:
        return _typed_address(order, form.get("address_text", "").strip())
    address = {
        "line": form.get("street", "").strip(),
        "ward_code": _number(form, "ward", "address"),
        "province_code": _number(form, "province", "address"),
    }
    current = order.recipient.address
    if (address["line"], address["ward_code"], address["province_code"]) == (
        current.line,
        current.ward_code,
        current.province_code,
    ):
        return []
    return [("address", _op("address", {"op": "set_address", "address": address}))]


def _line(line: Line, offers: Sequence[Variant], form: Mapping[str, str]) -> list[tuple[str, ops.Operation]]:
    section = f"line-{line.id}"
    found: list[tuple[str, ops.Operation]] = []
    quantity = _number(form, f"qty-{line.id}", section)
    if quantity == 0:
        return [(section, _op(section, {"op": "remove_line", "line_id": line.id}))]
    chosen = form.get(f"variant-{line.id}")
    if chosen is not None and offers:
        wanted = next((v for v in offers if variant_value(v) == chosen), None)
        if wanted is None:
            raise FormError(section, "choose one of the sizes and colours offered")
        if wanted.key != (line.size, line.color):
            swap = {"op": "swap_variant", "line_id": line.id, "size": wanted.size, "color": wanted.color}
            found.append((section, _op(section, {k: v for k, v in swap.items() if v is not None})))
    if quantity != line.quantity:
        found.append((section, _op(section, {"op": "set_quantity", "line_id": line.id, "quantity": quantity})))
    return found


def form_operations(
    order: Order, form: Mapping[str, str], offers: Mapping[str, Sequence[Variant]]
) -> list[tuple[str, ops.Operation]]:
    """(section, operation) for each change the form makes to `order`; a form that changes nothing is an error."""
    found = _recipient(order, form) + _address(order, form)
    for line in order.lines:
        if not line.is_tryon:
            found += _line(line, offers.get(line.id, ()), form)
    if not found:
        raise FormError("form", "nothing was changed")
    return found
