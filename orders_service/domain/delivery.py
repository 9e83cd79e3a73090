"""Pure: what a courier's delivery report does to an order (kept items, money, final status)."""

from __future__ import annotations

from collections.abc import Sequence

from orders_service.domain.model import KeptItem, Line, Order, OrderStatus, replace


class Kept:
    """Quantities reported kept, by (sku, size, color); each line takes what matches it."""

    def __init__(self, items: Sequence[tuple[str, str | None, str | None, int]]) -> None:
        self.left: dict[tuple[str, str | None, str | None], int] = {}
        for sku, size, color, quantity in items:
            key = (sku, size, color)
            self.left[key] = self.left.get(key, 0) + quantity

    def take(self, sku: str, size: str | None, color: str | None, most: int) -> int:
        key = (sku, size, color)
        taken = min(most, self.left.get(key, 0))
        if taken:
            self.left[key] -= taken
        return taken


def _finalise_line(line: Line, kept: Kept) -> Line:
    if line.tryon_options is None:
        quantity = kept.take(line.sku, line.size, line.color, line.quantity)
        items = (KeptItem(size=line.size, color=line.color, unit_price=line.unit_price or 0, quantity=quantity),)
        return replace(line, kept=items if quantity else ())
    chosen: list[KeptItem] = []
    budget = line.quantity  # she keeps at most the quantity the shop agreed to
    for option in sorted(line.tryon_options, key=lambda o: -o.unit_price):
        quantity = kept.take(line.sku, option.size, option.color, min(1, budget))
        if quantity:
            chosen.append(
                KeptItem(size=option.size, color=option.color, unit_price=option.unit_price, quantity=quantity)
            )
            budget -= quantity
    return replace(line, kept=tuple(chosen))


def finalise_delivery(order: Order, kept: Sequence[tuple[str, str | None, str | None, int]] | None) -> Order:
    """Delivered as reported: with `kept` the order keeps only those items, and money follows."""
    if kept is None:
        return replace(order, status=OrderStatus.DELIVERED)
    report = Kept(kept)
    lines = tuple(_finalise_line(line, report) for line in order.lines)
    # A try-on line is fully delivered when she keeps as many as agreed; the other options come back.
    everything = all(sum(item.quantity for item in line.kept or ()) == line.quantity for line in lines)
    partially = not everything and any(line.kept for line in lines)
    status = OrderStatus.PARTIALLY_DELIVERED if partially else OrderStatus.DELIVERED
    if not any(line.kept for line in lines):
        status = OrderStatus.RETURNING  # she kept nothing: the whole parcel comes back
    return replace(order, lines=lines, status=status)
