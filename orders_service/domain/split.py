"""Pure: one order becomes several, each part taking line quantities (and maybe its own recipient).

The original keeps what no part took. What was paid is shared out by largest remainder in proportion to
each order's goods, so no đồng is created or lost. A try-on line moves whole: its options travel together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orders_service.domain.amend import NewId
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.merge import WHY_NOT
from orders_service.domain.model import Line, Order, OrderStatus, Recipient, Shipping, replace
from orders_service.domain.money import allocate, compute_totals

SPLITTABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.READY_TO_SHIP})


@dataclass(frozen=True)
class Part:
    take: Sequence[tuple[str, int]]  # (line id, quantity), as parts[i].lines[j] of the request
    recipient: Recipient | None = None


def split(
    order: Order, parts: Sequence[Part], shipping_for: Sequence[Shipping], new_id: NewId
) -> tuple[Order, list[Order]]:
    """The original as it remains, and the parts as new orders (`shipping_for[i]` is part i's shipping)."""
    if order.status not in SPLITTABLE:
        raise OrderNotAmendable(f"the order cannot be split: {WHY_NOT.get(order.status, f'it is {order.status}')}")
    left = {line.id: line.quantity for line in order.lines}
    by_id = {line.id: line for line in order.lines}
    taken: list[list[Line]] = []
    for i, part in enumerate(parts):
        lines: list[Line] = []
        for j, (line_id, quantity) in enumerate(part.take):
            where = f"parts[{i}].lines[{j}]"
            line = by_id.get(line_id)
            if line is None:
                raise InvalidField(f"{where}.line_id", "no such line in this order")
            if quantity > left[line_id]:
                raise InvalidField(f"{where}.quantity", f"only {left[line_id]} of this line left to take")
            if line.is_tryon and quantity != line.quantity:
                raise InvalidField(f"{where}.quantity", "a try-on line moves whole, with all its options")
            left[line_id] -= quantity
            lines.append(replace(line, id=new_id(), quantity=quantity))
        taken.append(lines)
    remaining = tuple(replace(line, quantity=left[line.id]) for line in order.lines if left[line.id] > 0)
    if not remaining:
        raise InvalidField("parts", "the parts take everything: leave at least one item in the original order")
    status = OrderStatus.PENDING if order.status is OrderStatus.PENDING else OrderStatus.CONFIRMED
    new_orders = [
        replace(
            order,
            status=status,
            recipient=part.recipient or order.recipient,
            lines=tuple(lines),
            shipping=shipping,
            paid=0,
            note=None,
        )
        for part, lines, shipping in zip(parts, taken, shipping_for, strict=True)
    ]
    original = replace(order, lines=remaining)
    weights = [compute_totals(o).subtotal for o in (original, *new_orders)]
    shares = allocate(order.paid, weights)
    return replace(original, paid=shares[0]), [replace(o, paid=p) for o, p in zip(new_orders, shares[1:], strict=True)]
