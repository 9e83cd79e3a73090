"""The split form: up to PARTS new orders, each with the quantities it takes and, if staff give one, its own
recipient (another person or address: a gift sent elsewhere), as the API's `SplitIn`.

Part 1 takes `take_<line>` (the form's names before parts existed), part 2 `take1_<line>`. A part's recipient
fields are `name_<p>`, `phones_<p>`, and its address as on the amend form (`line_<p>`, `province_code_<p>`,
`ward_code_<p>`, or `address_text_<p>` typed whole); a part with none of them keeps the original's recipient,
and a blank name or phone of a new recipient is the original's.
"""

from __future__ import annotations

import re
from typing import Any

from orders_service.dashboard.i18n import N_
from orders_service.dashboard.new_order_form import phones
from orders_service.dashboard.pages import convert, one
from orders_service.domain.errors import InvalidField
from orders_service.orders.family_schemas import SplitIn
from orders_service.orders.schemas import OrderOut

PARTS = 2
RECIPIENT = ("name", "phones", "line", "province_code", "ward_code", "address_text")
_PART = re.compile(r"^parts\[(\d+)\]\.?(.*)$")


def take_name(part: int, line_id: str) -> str:
    return f"take_{line_id}" if part == 0 else f"take{part}_{line_id}"


def _recipient(order: OrderOut, form: dict[str, list[str]], p: int) -> dict[str, Any] | None:
    given = {name: one(form, f"{name}_{p}") for name in RECIPIENT}
    if not any(given.values()):
        return None
    was = order.recipient
    if given["address_text"]:
        address: dict[str, Any] = {"text": given["address_text"]}
    elif given["line"] or given["ward_code"] or given["province_code"]:
        address = {name: given[name] for name in ("line", "ward_code", "province_code") if given[name]}
    else:
        address = {
            "line": was.address.line,
            "ward_code": was.address.ward_code,
            "province_code": was.address.province_code,
        }
    return {"name": given["name"] or was.name, "phones": phones(given["phones"]) or was.phones, "address": address}


def split_input(order: OrderOut, form: dict[str, list[str]]) -> SplitIn:
    parts: list[dict[str, Any]] = []
    for p in range(PARTS):
        taken = []
        for line in order.lines:
            raw = one(form, take_name(p, line.id), "0") or "0"
            if raw != "0":
                taken.append({"line_id": line.id, "quantity": raw})
        recipient = _recipient(order, form, p)
        if not taken and recipient is not None:
            raise InvalidField(f"parts[{len(parts)}].lines", N_("chọn ít nhất một sản phẩm để chuyển sang đơn mới"))
        if taken:
            parts.append({"lines": taken, **({"recipient": recipient} if recipient else {})})
    if not parts:
        raise InvalidField("parts[0].lines", N_("chọn ít nhất một sản phẩm để chuyển sang đơn mới"))
    return convert({"parts": parts, "reason": one(form, "reason") or None}, SplitIn)


def split_field(path: str, form: dict[str, list[str]]) -> str | None:
    """The form field a refusal at `parts[i]...` is about (a part's recipient field), else None (above the form).
    Parts left empty are not sent, so the i-th part sent is the i-th filled column."""
    found = _PART.match(path)
    if found is None:
        return None
    filled = [p for p in range(PARTS) if any(one(form, k) not in ("", "0") for k in form if _is_take(k, p))]
    index, rest = int(found.group(1)), found.group(2)
    p = filled[index] if index < len(filled) else 0
    if rest.startswith("recipient.address"):
        if one(form, f"address_text_{p}"):
            return f"address_text_{p}"
        tail = rest.rsplit(".", 1)[-1]
        return f"{tail}_{p}" if tail in ("line", "province_code", "ward_code") else f"ward_code_{p}"
    if rest.startswith("recipient.phones"):
        return f"phones_{p}"
    if rest.startswith("recipient.name"):
        return f"name_{p}"
    return None


def _is_take(key: str, part: int) -> bool:
    return key.startswith("take_") if part == 0 else key.startswith(f"take{part}_")
