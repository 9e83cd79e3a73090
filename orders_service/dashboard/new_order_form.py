"""The new-order form: what staff typed becomes the API's own `OrderIn`, and the API's field paths come back to
the form's fields, so that each refusal sits on the field it is about.

Rows of the form: `item_<k>`/`qty_<k>` pick a catalogue variant by its token ("DRESS-01 · M · red", offered in a
list, typed or pasted); `other_sku_<k>`, `other_name_<k>`, `other_price_<k>`, `other_qty_<k>` make a line of
something the catalogue does not sell, at the shop's price (the API takes it when the price is given). A blank
row is no line. Nothing here decides a price, a stock level or an address: the use case does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from orders_service.catalogue.schemas import ProductOut
from orders_service.dashboard.i18n import N_
from orders_service.dashboard.pages import convert, one
from orders_service.domain.errors import InvalidField
from orders_service.orders.schemas import OrderIn

CATALOGUE_ROWS = 5
OTHER_ROWS = 2
NONE = "-"  # a variant without a size (or colour) in its token
OTHER_PARTS = {"sku": "other_sku", "name": "other_name", "unit_price": "other_price", "quantity": "other_qty"}
# API paths (their first parts) -> the form field that shows the refusal.
FIELDS = [
    ("customer.full_name", "customer_name"),
    ("customer", "customer_phones"),
    ("recipient.name", "recipient_name"),
    ("recipient.phones", "recipient_phones"),
    ("recipient.address.line", "line"),
    ("recipient.address.province", "province_code"),
    ("recipient.address.ward", "ward_code"),
    ("prepaid", "prepaid"),
    ("shipping.fee", "fee"),
    ("shipping.payer", "payer"),
    ("note", "note"),
    ("channel", "channel"),
]
_LINE = re.compile(r"^lines\[(\d+)\]\.?([a-z_]*)")


class Rows(NamedTuple):
    """The order's lines in API shape, and for each the form row it came from (`item_2`, `other_0`)."""

    lines: list[dict[str, Any]]
    origin: list[str]


def variant_token(sku: str, size: str | None, color: str | None) -> str:
    """A catalogue variant as staff pick or type it: "DRESS-01 · M · red" (a missing size or colour "-")."""
    if size is None and color is None:
        return sku
    return f"{sku} · {size or NONE} · {color or NONE}"


def _part(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", NONE) else value


def _variant(product: ProductOut, rest: list[str]) -> tuple[str | None, str | None]:
    """(size, colour) from the token's parts after the SKU: by position when both are given; one value is the
    size or the colour it matches; none is the product's only variant. What the catalogue lacks, the API says."""
    if len(rest) >= 2:
        return _part(rest[0]), _part(rest[1])
    if len(rest) == 1 and _part(rest[0]) is not None:
        value = str(_part(rest[0])).casefold()
        if any((v.color or "").casefold() == value for v in product.variants) and not any(
            (v.size or "").casefold() == value for v in product.variants
        ):
            return None, _part(rest[0])
        return _part(rest[0]), None
    if len(product.variants) == 1:
        return product.variants[0].size, product.variants[0].color
    raise InvalidField("", N_("chọn size/màu trong danh sách"))


def catalogue_line(token: str, quantity: str, products: Mapping[str, ProductOut]) -> dict[str, Any]:
    sku, *rest = [p.strip() for p in token.split("·")]
    if len(rest) == 0 and " " in sku:  # "DRESS-01 M" typed by hand
        sku, *rest = sku.split()
    product = products.get(sku.upper()) or products.get(sku)
    if product is None:
        raise InvalidField("", N_("không có mã hàng này trong danh mục"))
    size, color = _variant(product, rest)
    line: dict[str, Any] = {"sku": product.sku, "name": product.name, "quantity": quantity or "1"}
    return {**line, **({"size": size} if size else {}), **({"color": color} if color else {})}


def read_rows(form: dict[str, list[str]], products: Mapping[str, ProductOut], errors: dict[str, str]) -> Rows:
    """The filled rows as API lines; a row that names no catalogue product records its error in `errors`."""
    rows = Rows([], [])
    for k in range(CATALOGUE_ROWS):
        token = one(form, f"item_{k}")
        if not token:
            continue
        try:
            rows.lines.append(catalogue_line(token, one(form, f"qty_{k}"), products))
            rows.origin.append(f"item_{k}")
        except InvalidField as error:
            errors[f"item_{k}"] = error.message
    for k in range(OTHER_ROWS):
        given = {part: one(form, f"{name}_{k}") for part, name in OTHER_PARTS.items()}
        if not any(given[p] for p in ("sku", "name", "unit_price")):
            continue
        rows.lines.append({**{p: v for p, v in given.items() if v}, "quantity": given["quantity"] or "1"})
        rows.origin.append(f"other_{k}")
    if not rows.lines and not errors:
        errors["item_0"] = N_("chọn ít nhất một sản phẩm")
    return rows


def phones(raw: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\n]", raw) if p.strip()]


def order_in(form: dict[str, list[str]], rows: Rows, errors: dict[str, str]) -> OrderIn | None:
    """The API's payload; the recipient's name and phones left blank are the customer's. None when the page's
    own checks (`errors`) already refuse it; a value the API's types refuse raises InvalidField at its path."""
    customer_phones = phones(one(form, "customer_phones"))
    if not customer_phones:
        errors["customer_phones"] = N_("chưa nhập số điện thoại")
    if errors:
        return None
    text = one(form, "address_text")
    codes = {name: one(form, name) for name in ("line", "ward_code", "province_code") if one(form, name)}
    address: dict[str, Any] = {"text": text} if text else codes
    data: dict[str, Any] = {
        "customer": {"full_name": one(form, "customer_name"), "phones": customer_phones},
        "recipient": {
            "name": one(form, "recipient_name") or one(form, "customer_name"),
            "phones": phones(one(form, "recipient_phones")) or customer_phones,
            "address": address,
        },
        "lines": rows.lines,
        "channel": one(form, "channel") or "website",
        "prepaid": one(form, "prepaid") or "0",
        "shipping": {"fee": one(form, "fee") or "0", "payer": one(form, "payer") or "customer"},
    }
    if one(form, "note"):
        data["note"] = one(form, "note")
    return convert(data, OrderIn)


def form_field(path: str, rows: Rows, typed_address: bool) -> str:
    """The form field an API path is about: `lines[1].quantity` -> `qty_3` (the row it came from), a typed
    address's refusal -> `address_text`; a path the form has no field for -> "form" (shown above it)."""
    found = _LINE.match(path)
    if found:
        index, part = int(found.group(1)), found.group(2)
        if index >= len(rows.origin):
            return "item_0"
        origin = rows.origin[index]
        kind, k = origin.rsplit("_", 1)
        if kind == "other":
            return f"{OTHER_PARTS.get(part, 'other_name')}_{k}"
        return f"qty_{k}" if part == "quantity" else f"item_{k}"
    if path == "lines" or path.startswith("lines"):
        return "item_0"
    if path.startswith("recipient.address") and typed_address:
        return "address_text"
    if path == "recipient.address":
        return "ward_code"
    return next((name for prefix, name in FIELDS if path.startswith(prefix)), "form")
