"""Pure: what a courier's delivery report does to an order (kept items, money, final status)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from orders_service.domain.errors import InvalidField
from orders_service.domain.model import KeptItem, Line, Order, OrderStatus, replace
from orders_service.domain.money import compute_totals
from orders_service.domain.returns import Variant, sent

KeptReport = Sequence[tuple[str, str | None, str | None, int]]  # (sku, size, color, quantity) per item kept
# Delivered: the customer has the goods and paid what they come to.
SETTLED = frozenset({OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED})


class Kept:
    """Quantities reported kept, by (sku, size, color); each line takes what matches it."""

    def __init__(self, items: KeptReport) -> None:
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


def finalise_delivery(order: Order, kept: KeptReport | None) -> Order:
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


def _name(variant: Variant) -> str:
    sku, size, color = variant
    options = ", ".join(part for part in (size, color) if part is not None)
    return f"{sku} ({options})" if options else sku


def check_kept(order: Order, kept: KeptReport) -> None:
    """Refuse a report of items the parcel never held, more than it held, or more than the order lets her keep.

    Each error names the item at fault as `kept[i].<field>`, the way a review's body numbers them.
    """
    held = sent(order)
    counted: Counter[Variant] = Counter()
    for index, (sku, size, color, quantity) in enumerate(kept):
        at, variant = f"kept[{index}]", (sku, size, color)
        variants = [v for v in held if v[0] == sku]
        if not variants:
            raise InvalidField(f"{at}.sku", f"the order has no {sku}")
        if variant not in held:
            field = "color" if any(v[1] == size for v in variants) else "size"
            choices = "; ".join(_name(v) for v in variants)
            raise InvalidField(f"{at}.{field}", f"the parcel held no {_name(variant)}, only {choices}")
        counted[variant] += quantity
        if counted[variant] > held[variant]:
            raise InvalidField(f"{at}.quantity", f"{counted[variant]} {_name(variant)} kept, but {held[variant]} sent")
    report = Kept(kept)
    for line in order.lines:
        _finalise_line(line, report)
    # What no line took: more try-on options than the line lets her keep. The last such item is at fault.
    for index in reversed(range(len(kept))):
        sku, size, color, _ = kept[index]
        if report.left.get((sku, size, color)):
            raise InvalidField(
                f"kept[{index}].quantity",
                f"more {sku} options kept than the order lets her keep (a try-on line keeps at most its quantity)",
            )


def cod_mismatch(order: Order, cod_collected: int | None) -> bool:
    """The courier says it collected other than the COD of what she kept, once the order is delivered."""
    return cod_collected is not None and order.status in SETTLED and cod_collected != compute_totals(order).cod_amount
