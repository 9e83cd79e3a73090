"""The amend form: what staff typed, compared with the order, becomes the API's typed operations."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from orders_service.dashboard.pages import convert
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import MULTI_LINE, AddressInput, AddressLine, Money, PersonName, ShippingFee
from orders_service.domain.operations import Operation
from orders_service.geo.address_in import AddressIn, to_address
from orders_service.orders.schemas import OrderOut, Reason

FIELDS = ("name", "phones", "line", "province_code", "ward_code", "address_text", "fee", "payer", "payment", "reason")


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
    reason: Reason | None = None
    quantities: dict[str, Annotated[int, Meta(ge=0, le=999)]] = {}


def read(form: dict[str, list[str]]) -> AmendForm:
    """The form's values, each checked by its Meta; a blank optional field is left out."""
    data: dict[str, Any] = {k: form[k][0].strip() for k in FIELDS if form.get(k) and form[k][0].strip()}
    quantities = {k[4:]: v[0].strip() for k, v in form.items() if k.startswith("qty_") and v and v[0].strip()}
    return convert({**data, "quantities": quantities}, AmendForm)


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


def operations(form: AmendForm, order: OrderOut) -> list[Operation]:
    """Only what differs from the order; the service checks each (phones, ward in province, status)."""
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
    if not ops:
        raise InvalidField("form", "nothing was changed")
    try:
        return msgspec.convert(ops, list[Operation])
    except msgspec.ValidationError as error:
        raise InvalidField("form", str(error)) from None
