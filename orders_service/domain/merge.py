"""Pure: several orders of one customer become one parcel.

The survivor (`into`) takes every line (the same product, variant and price add up) and every payment. Its
money never depends on which order survives: the discount is the customer's tier now (as for any amendment
before pickup), recomputed on the larger subtotal, and the one shipping fee is the one of the order whose
address the parcel goes to. The sources become `merged`: they keep their lines as history, and owe nothing
since their payments moved on.
"""

from __future__ import annotations

from collections.abc import Sequence

from orders_service.domain.amend import NewId
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import (
    MAX_LINES,
    MAX_QUANTITY,
    Line,
    Order,
    OrderStatus,
    Recipient,
    Shipping,
    replace,
)

MERGEABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.READY_TO_SHIP})
WHY_NOT: dict[OrderStatus, str] = {
    OrderStatus.IN_TRANSIT: "the courier has picked it up",
    OrderStatus.NEEDS_REVIEW: "it was delivered and waits for staff to review what was kept",
    OrderStatus.DELIVERED: "it was delivered",
    OrderStatus.PARTIALLY_DELIVERED: "it was delivered",
    OrderStatus.RETURNING: "it is on its way back",
    OrderStatus.RETURNED: "it came back to the shop",
    OrderStatus.CANCELLED: "it was cancelled",
    OrderStatus.MERGED: "it was already merged into another order",
}


def why_not_mergeable(status: OrderStatus) -> str | None:
    """The reason an order in `status` cannot take part in a merge, or None if it can."""
    return None if status in MERGEABLE else WHY_NOT.get(status, f"it is {status}")


def _variant(line: Line) -> tuple[str, str | None, str | None, int | None] | None:
    """What makes two plain lines one: product, size, colour and price. Try-on lines never combine."""
    return None if line.is_tryon else (line.sku, line.size, line.color, line.unit_price)


def combine_lines(into: Sequence[Line], moved: Sequence[Line], new_id: NewId) -> tuple[Line, ...]:
    """`into`'s lines keep their ids; a moved line adds to a matching one, else joins with a new id."""
    lines = list(into)
    for line in moved:
        key = _variant(line)
        match = next(
            (i for i, have in enumerate(lines) if key is not None and _variant(have) == key),
            None,
        )
        if match is not None and lines[match].quantity + line.quantity <= MAX_QUANTITY:
            lines[match] = replace(lines[match], quantity=lines[match].quantity + line.quantity)
        else:
            lines.append(replace(line, id=new_id(), kept=None))
    if len(lines) > MAX_LINES:
        raise InvalidField("order_ids", f"together these orders have {len(lines)} lines; one order holds {MAX_LINES}")
    return tuple(lines)


def merge(
    into: Order,
    sources: Sequence[Order],
    recipient: Recipient,
    new_id: NewId,
    *,
    shipping: Shipping,
    discount_percent: int,
    discount_reason: str | None,
) -> tuple[Order, list[Order]]:
    """The survivor and the merged sources. Statuses are checked by the caller, which names each order.

    `shipping` is that of the order whose address was chosen, and the discount the customer's tier now: neither
    is taken from `into`, so merging A into B costs what merging B into A does.
    """
    moved = [line for source in sources for line in source.lines]
    survivor = replace(
        into,
        recipient=recipient,
        lines=combine_lines(into.lines, moved, new_id),
        shipping=shipping,
        paid=into.paid + sum(source.paid for source in sources),
        discount_percent=discount_percent,
        discount_reason=discount_reason,
    )
    merged = [replace(source, status=OrderStatus.MERGED, paid=0) for source in sources]
    return survivor, merged
