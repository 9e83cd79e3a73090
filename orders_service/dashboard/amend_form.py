"""The amend form: what staff typed, compared with the order, becomes the API's typed operations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from orders_service.dashboard.i18n import N_
from orders_service.dashboard.pages import convert
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import (
    MULTI_LINE,
    AddressInput,
    AddressLine,
    Money,
    PersonName,
    ShippingFee,
    TryonOption,
)
from orders_service.domain.operations import Operation, SetTryonOptions, SwapVariant
from orders_service.geo.address_in import AddressIn, to_address
from orders_service.orders.schemas import OrderOut, Reason

FIELDS = (
    "name",
    "phones",
    "line",
    "province_code",
    "ward_code",
    "address_text",
    "fee",
    "payer",
    "payment",
    "points",
    "reason",
)


class AmendForm(Struct, kw_only=True):
    name: PersonName
    phones: Annotated[str, Meta(min_length=1, max_length=120, pattern=MULTI_LINE)]
    line: AddressLine
    province_code: int
    ward_code: int
    fee: ShippingFee
    # The whole address as the customer wrote it, old units or new: when given, it replaces line/province/ward.
    address_text: AddressInput | None = None
    payer: Annotated[str, Meta(pattern="^(customer|shop)$")]
    payment: Money = 0
    points: Annotated[int, Meta(gt=0, le=10**9)] | None = None  # her loyalty points spent on this order
    reason: Reason | None = None
    quantities: dict[str, Annotated[int, Meta(ge=0, le=999)]] = {}
    # Catalogue choices: a plain line's variant, and the try-on options ticked (each a variant_value).
    variants: dict[str, Annotated[str, Meta(max_length=200)]] = {}
    options: dict[str, Annotated[list[Annotated[str, Meta(max_length=200)]], Meta(max_length=50)]] = {}


def variant_value(size: str | None, color: str | None) -> str:
    """A variant as a form value: its size and colour as JSON (either may be absent)."""
    return msgspec.json.encode([size, color]).decode()


def _variant(value: str, field: str) -> tuple[str | None, str | None]:
    try:
        size, color = msgspec.json.decode(value, type=tuple[str | None, str | None])
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidField(field, N_("chọn một size/màu trong danh sách")) from None
    return size, color


def read(form: dict[str, list[str]]) -> AmendForm:
    """The form's values, each checked by its Meta; a blank optional field is left out."""
    data: dict[str, Any] = {k: form[k][0].strip() for k in FIELDS if form.get(k) and form[k][0].strip()}
    quantities = {k[4:]: v[0].strip() for k, v in form.items() if k.startswith("qty_") and v and v[0].strip()}
    variants = {k[8:]: v[0] for k, v in form.items() if k.startswith("variant_") and v}
    # `optsof_<line>` marks a try-on line whose boxes were shown: none ticked is then a choice, not an omission.
    options = {k[7:]: list(form.get(f"opts_{k[7:]}", [])) for k in form if k.startswith("optsof_")}
    return convert({**data, "quantities": quantities, "variants": variants, "options": options}, AmendForm)


def _catalogue_operations(form: AmendForm, order: OrderOut) -> list[Operation]:
    """A size/colour swap or new try-on options chosen from the catalogue; their prices are the catalogue's."""
    found: list[Operation] = []
    for line in order.lines:
        chosen = form.variants.get(line.id)
        if chosen is not None and line.tryon_options is None:
            size, color = _variant(chosen, f"variant_{line.id}")
            if (size, color) != (line.size, line.color):
                # A variant without a size (or colour) clears it: the struct's types cannot say None, the line can.
                found.append(SwapVariant(line_id=UUID(line.id), size=size, color=color))  # type: ignore[arg-type]
        ticked = form.options.get(line.id)
        if ticked is not None and line.tryon_options is not None:
            pairs = [_variant(value, f"opts_{line.id}") for value in ticked]
            if not pairs:
                raise InvalidField(f"opts_{line.id}", N_("chọn ít nhất một size/màu để gửi thử"))

            current = {(o.size, o.color): o.unit_price for o in line.tryon_options}
            if set(pairs) != set(current):
                chosen_options = [TryonOption(size=s, color=c, unit_price=current.get((s, c), 0)) for s, c in pairs]
                found.append(SetTryonOptions(line_id=UUID(line.id), tryon_options=chosen_options))
    return found


def _phones(raw: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\n]", raw) if p.strip()]


def _typed(text: str) -> dict[str, Any]:
    """The typed address in 2025 codes; one that fits no ward or several names the wards it could be."""
    try:
        address: dict[str, Any] = msgspec.to_builtins(to_address(AddressIn(text=text), "address_text"))
        return address
    except InvalidField as error:
        names = [c.name for c in getattr(error, "candidates", [])]
        raise InvalidField(error.field, error.message + (": " + "; ".join(names) if names else "")) from None


def operations(form: AmendForm, order: OrderOut, added: Sequence[dict[str, Any]] = ()) -> list[Operation]:
    """Only what differs from the order, and the lines `added` from the catalogue (API lines); the service checks
    each (phones, ward in province, status, stock, her points)."""
    ops: list[dict[str, Any]] = []
    recipient: dict[str, Any] = {}
    if form.name.strip() != order.recipient.name:
        recipient["name"] = form.name.strip()
    phones = _phones(form.phones)
    if phones != order.recipient.phones:
        recipient["phones"] = phones
    if recipient:
        ops.append({"op": "set_recipient", **recipient})
    address = order.recipient.address
    given = (form.line.strip(), form.ward_code, form.province_code)
    if form.address_text is not None:
        ops.append({"op": "set_address", "address": _typed(form.address_text)})
    elif given != (address.line, address.ward_code, address.province_code):
        ops.append(
            {"op": "set_address", "address": {"line": given[0], "ward_code": given[1], "province_code": given[2]}}
        )
    shipping: dict[str, Any] = {}
    if form.fee != order.shipping.fee:
        shipping["fee"] = form.fee
    if form.payer != order.shipping.payer:
        shipping["payer"] = form.payer
    if shipping:
        ops.append({"op": "set_shipping", **shipping})
    for line in order.lines:
        wanted = form.quantities.get(line.id)
        if wanted is None or wanted == line.quantity:
            continue
        ops.append(
            {"op": "remove_line", "line_id": line.id}
            if wanted == 0
            else {"op": "set_quantity", "line_id": line.id, "quantity": wanted}
        )
    if form.payment:
        ops.append({"op": "add_payment", "amount": form.payment})
    if form.points:
        ops.append({"op": "redeem_points", "points": form.points})
    ops.extend({"op": "add_line", "line": line} for line in added)
    chosen = _catalogue_operations(form, order)
    if not ops and not chosen:
        raise InvalidField("form", N_("chưa thay đổi gì"))
    try:
        return [*msgspec.convert(ops, list[Operation]), *chosen]
    except msgspec.ValidationError as error:
        raise InvalidField("form", str(error)) from None
