"""Pure: what physically comes back to the shop from an order's parcel, to put back in stock."""

from __future__ import annotations

import enum
from collections import Counter

from msgspec import Struct

from orders_service.domain.model import Line, Order

Variant = tuple[str, str | None, str | None]  # sku, size, color


class ReturnReason(enum.StrEnum):
    TRYON_NOT_KEPT = "tryon_not_kept"  # a try-on option she did not choose
    NOT_KEPT = "not_kept"  # units of a plain line she did not keep
    RETURNED = "returned"  # the courier brought the whole parcel back


class ReturnedItem(Struct, frozen=True):
    sku: str
    name: str
    size: str | None
    color: str | None
    unit_price: int
    quantity: int
    reason: ReturnReason


def _sent(line: Line) -> list[tuple[str | None, str | None, int, int]]:
    """(size, color, unit_price, quantity) of what the line put in the parcel: one of each try-on option."""
    if line.tryon_options is None:
        return [(line.size, line.color, line.unit_price or 0, line.quantity)]
    return [(option.size, option.color, option.unit_price, 1) for option in line.tryon_options]


def sent(order: Order) -> Counter[Variant]:
    """How many of each variant went to the door."""
    counts: Counter[Variant] = Counter()
    for line in order.lines:
        for size, color, _, quantity in _sent(line):
            counts[(line.sku, size, color)] += quantity
    return counts


def whole_parcel(order: Order) -> list[ReturnedItem]:
    """Everything the parcel held: what comes back when the courier returns all of it."""
    return [
        ReturnedItem(line.sku, line.name, size, color, price, quantity, ReturnReason.RETURNED)
        for line in order.lines
        for size, color, price, quantity in _sent(line)
    ]


def not_kept(order: Order) -> list[ReturnedItem]:
    """What came back from a delivery whose kept items are known: every unit sent that she did not keep."""
    items: list[ReturnedItem] = []
    for line in order.lines:
        if line.kept is None:
            continue
        kept: Counter[tuple[str | None, str | None]] = Counter()
        for item in line.kept:
            kept[(item.size, item.color)] += item.quantity
        reason = ReturnReason.TRYON_NOT_KEPT if line.is_tryon else ReturnReason.NOT_KEPT
        for size, color, price, quantity in _sent(line):
            taken = min(quantity, kept[(size, color)])
            kept[(size, color)] -= taken
            if quantity > taken:
                items.append(ReturnedItem(line.sku, line.name, size, color, price, quantity - taken, reason))
    return items
