"""The page's plain form, read into the same typed operations the JSON API takes (pure, no I/O)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import phonenumbers

from orders_service.domain import operations as ops
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import Line, Order
from orders_service.domain.phones import normalise_phone
from orders_service.geo.address_in import AddressIn, to_address
from orders_service.infra.invalid_field import first_invalid
from orders_service.links.rules import Variant

PHONE_FIELDS = ("phone1", "phone2", "phone3")
# A field path of the API (`operations[1].address.ward_code`): the operation's index, then its segments.
_OPERATION_FIELD = re.compile(r"^operations\[(\d+)\]")
_SEGMENT = re.compile(r"\.([^\W\d]\w*)|\[(\d+)\]")
# Where a field of the address operation sits on the page.
_ADDRESS_FIELDS = {"line": "street", "ward_code": "ward", "province_code": "province", "text": "address_text"}
# What is not part of the change itself, and so not of the digest that proves she saw its amount.
_CONTROL_FIELDS = frozenset({"_csrf_token", "action", "previewed", "version"})


class FormError(InvalidField):
    """A form value that cannot be used: `field` is the form's field it sits on (phone2, ward, qty-<id>, or
    `form` for the change as a whole), `code` the reason in words the page translates (i18n's `err.<code>`),
    `params` what those words name (the wards a typed address could be)."""

    def __init__(self, field: str, code: str, message: str | None = None, **params: str) -> None:
        super().__init__(field, message or code)
        self.code = code
        self.params = params


def field_of(section: str, path: tuple[str | int, ...], phone_fields: Sequence[str] = PHONE_FIELDS) -> str:
    """The form's field an error at `path` (below its operation) of the `section`'s operation sits on; a phone
    by its place among `phone_fields`, the fields she filled in (the empty ones are not sent)."""
    head = path[0] if path else None
    if section == "recipient":
        if head == "phones" and len(path) > 1 and isinstance(path[1], int) and path[1] < len(phone_fields):
            return phone_fields[path[1]]
        return "phone1" if head == "phones" else "name"
    if section == "address":
        inner = path[1] if head == "address" and len(path) > 1 else head
        return _ADDRESS_FIELDS.get(str(inner), "street")
    if section.startswith("line-"):
        line_id = section.removeprefix("line-")
        return f"variant-{line_id}" if head in ("size", "color", "unit_price") else f"qty-{line_id}"
    return section


def variant_value(variant: Variant) -> str:
    """The <option> value naming a variant: its size and colour, as JSON (either may be absent)."""
    return msgspec.json.encode([variant.size, variant.color]).decode()


def form_digest(form: Mapping[str, str]) -> str:
    """A digest of the change in the form: a confirm is only taken for the change whose amount she saw."""
    items = sorted((k, v) for k, v in form.items() if k not in _CONTROL_FIELDS)
    return hashlib.sha256(msgspec.json.encode(items)).hexdigest()[:32]


def code_of(field: str) -> str:
    """The generic reason for a field (`err.<code>` in i18n) when nothing more precise is known."""
    if field.startswith("phone"):
        return "phone.invalid"
    return field.split("-")[0]


def located(error: InvalidField, sections: Sequence[str], form: Mapping[str, str]) -> FormError:
    """The error as the page shows it: on the form's field its path names (`operations[0].phones[1]` -> the
    second phone she gave), with the generic reason for that field; `form` when no field of the page is named."""
    if isinstance(error, FormError):
        return error
    match = _OPERATION_FIELD.match(error.field)
    if match is None or int(match.group(1)) >= len(sections):
        return FormError("form", "order", error.message)
    path = tuple(int(i) if i else str(name) for name, i in _SEGMENT.findall(error.field[match.end() :]))
    given = [field for field in PHONE_FIELDS if form.get(field, "").strip()]
    section = sections[int(match.group(1))]
    if section == "address" and form.get("address_text", "").strip():
        return FormError("address_text", "address_text", error.message)  # she typed it whole: that field
    field = field_of(section, path, given)
    return FormError(field, code_of(field), error.message)


def _op(section: str, raw: dict[str, Any]) -> ops.Operation:
    try:
        return msgspec.convert(raw, ops.Operation)
    except msgspec.ValidationError as error:
        found = first_invalid(raw, ops.Operation)
        path = found.path if found else ()
        field = field_of(section, path)
        raise FormError(field, code_of(field), str(error)) from None


def _number(form: Mapping[str, str], name: str) -> int:
    raw = form.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 6:
        raise FormError(name, code_of(name), f"{name} must be a whole number")
    return int(raw)


def phone_problem(raw: str) -> str:
    """Why a number the domain refused is refused, in the words she can act on: too few or too many digits,
    a foreign number (couriers in Vietnam call Vietnamese ones), or not a phone number at all."""
    compact = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if ch not in " .-()")
    digits = compact.removeprefix("+")
    if not digits.isdigit():
        return "phone.invalid"
    try:
        parsed = phonenumbers.parse(compact, "VN")
    except phonenumbers.NumberParseException:  # "+84" alone, or "0": too short to be read at all
        return "phone.too_short" if len(digits) < 9 else "phone.invalid"
    if parsed.country_code != 84:
        return "phone.foreign" if phonenumbers.is_valid_number(parsed) else "phone.invalid"
    national = str(parsed.national_number)
    if len(national) < 9:  # Vietnamese numbers have 9 (mobiles) or 10 (landlines) digits after the 0
        return "phone.too_short"
    return "phone.too_long" if len(national) > 10 else "phone.invalid"


def _phones(form: Mapping[str, str]) -> tuple[str, ...]:
    """The phones she gave, in E.164; the first field in error is raised, on that field."""
    phones: list[str] = []
    for field in PHONE_FIELDS:
        raw = form.get(field, "").strip()
        if not raw:
            continue
        try:
            phone = normalise_phone(raw, field, vietnam_only=True)
        except InvalidField as error:
            raise FormError(field, phone_problem(raw), error.message) from None
        if phone in phones:
            raise FormError(field, "phone.duplicate", f"{phone} is already given")
        phones.append(phone)
    if not phones:
        raise FormError("phone1", "phone.required", "give a phone number")
    return tuple(phones)


def _recipient(order: Order, form: Mapping[str, str]) -> list[tuple[str, ops.Operation]]:
    name = form.get("name", "").strip()
    if not name:
        raise FormError("name", "name.required", "give a name")
    phones = _phones(form)
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
        if names:
            raise FormError("address_text", "address_text.choose", error.message, wards="; ".join(names)) from None
        raise FormError("address_text", "address_text", error.message) from None
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
    line = form.get("street", "").strip()
    if not line:
        raise FormError("street", "street.required", "give the house number and street")
    address = {"line": line, "ward_code": _number(form, "ward"), "province_code": _number(form, "province")}
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
    quantity = _number(form, f"qty-{line.id}")
    if quantity == 0:
        return [(section, _op(section, {"op": "remove_line", "line_id": line.id}))]
    chosen = form.get(f"variant-{line.id}")
    if chosen is not None and offers:
        wanted = next((v for v in offers if variant_value(v) == chosen), None)
        if wanted is None:
            raise FormError(f"variant-{line.id}", "variant", "choose one of the sizes and colours offered")
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
    removed = {op.line_id for _, op in found if isinstance(op, ops.RemoveLine)}
    if order.lines and all(str(line.id) in {str(r) for r in removed} for line in order.lines):
        # The domain keeps at least one line: she is told on the quantity, and that cancelling is the way.
        raise FormError(f"qty-{order.lines[0].id}", "qty.last_line", "an order keeps at least one line")
    if not found:
        raise FormError("form", "nothing", "nothing was changed")
    return found
