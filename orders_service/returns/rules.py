"""Pure rules of a return request: what she kept, what she may still ask back, the window, and the refund.

The refund of the returned items is their kept price less their share of the order's discount. The share is
taken cumulatively: with S the order's goods, D its discount and P the goods already refunded by approved
requests, items worth V carry floor(D * (P + V) / S) - floor(D * P / S). Shares of every request add up to D to
the đồng once she has returned everything, whatever the order of the requests; any rounding falls to her.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orders_service.domain.errors import InvalidField
from orders_service.domain.model import Order, OrderStatus

Variant = tuple[str, str | None, str | None]  # sku, size, color
RETURNABLE = frozenset({OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED})
MAX_REASON = 500


def variant(sku: str, size: str | None, color: str | None) -> Variant:
    """No size (or colour) is the same whether it came as None or as "" (a form's empty field)."""
    return (sku.strip(), (size or "").strip() or None, (color or "").strip() or None)


@dataclass(frozen=True)
class Kept:
    """One variant she kept: its name and, in the order's line order, (unit price, quantity) of each line."""

    sku: str
    name: str
    size: str | None
    color: str | None
    chunks: tuple[tuple[int, int], ...]

    @property
    def quantity(self) -> int:
        return sum(quantity for _, quantity in self.chunks)

    @property
    def unit_price(self) -> int:
        return self.chunks[0][0]

    def value(self, skip: int, count: int) -> int:
        """The price of `count` units after the first `skip` (already asked back), in line order."""
        total = 0
        for price, quantity in self.chunks:
            used = min(quantity, skip)
            skip -= used
            take = min(quantity - used, count)
            count -= take
            total += take * price
        return total


def kept(order: Order) -> dict[Variant, Kept]:
    """What she kept of a delivered order: a line's `kept` once the courier (or staff) reported it, else the
    plain line whole. A try-on line never reported kept nothing known, so nothing of it can be asked back."""
    found: dict[Variant, tuple[str, list[tuple[int, int]]]] = {}
    for line in order.lines:
        if line.kept is not None:
            units = [(variant(line.sku, k.size, k.color), k.unit_price, k.quantity) for k in line.kept]
        elif line.tryon_options is None:
            units = [(variant(line.sku, line.size, line.color), line.unit_price or 0, line.quantity)]
        else:
            units = []
        for key, price, quantity in units:
            if quantity > 0:
                found.setdefault(key, (line.name, []))[1].append((price, quantity))
    return {key: Kept(key[0], name, key[1], key[2], tuple(chunks)) for key, (name, chunks) in found.items()}


@dataclass(frozen=True)
class Asked:
    """One item of a request as written: the variant, how many, and its goods value before the discount."""

    sku: str
    name: str
    size: str | None
    color: str | None
    unit_price: int
    quantity: int
    value: int


def check_items(
    order_kept: dict[Variant, Kept], taken: Counter[Variant], items: Sequence[tuple[str, str | None, str | None, int]]
) -> list[Asked]:
    """The request's items, each at most what she kept less what open or approved requests already ask back.

    `taken`: per variant, the units asked by her open and approved requests. An item she did not keep, or too
    many, is an InvalidField naming `items[i]` (or its quantity). The same variant twice adds up.
    """
    if not items:
        raise InvalidField("items", "ask for at least one item")
    asked: dict[Variant, int] = {}
    for i, (sku, size, color, quantity) in enumerate(items):
        key = variant(sku, size, color)
        found = order_kept.get(key)
        if found is None:
            raise InvalidField(f"items[{i}]", "she did not keep this item")
        if quantity < 1:
            raise InvalidField(f"items[{i}].quantity", "must be 1 or more")
        left = found.quantity - taken.get(key, 0) - asked.get(key, 0)
        if quantity > left:
            raise InvalidField(f"items[{i}].quantity", f"at most {max(0, left)} may still be returned")
        asked[key] = asked.get(key, 0) + quantity
    out = []
    for key, quantity in asked.items():
        found = order_kept[key]
        value = found.value(taken.get(key, 0), quantity)
        out.append(Asked(found.sku, found.name, found.size, found.color, found.unit_price, quantity, value))
    return out


def still_returnable(order_kept: dict[Variant, Kept], taken: Counter[Variant]) -> dict[Variant, int]:
    """Per variant she kept, how many she may still ask back."""
    return {key: max(0, k.quantity - taken.get(key, 0)) for key, k in order_kept.items()}


def taken_by(requests: Iterable[Iterable[tuple[str, str | None, str | None, int]]]) -> Counter[Variant]:
    counts: Counter[Variant] = Counter()
    for items in requests:
        for sku, size, color, quantity in items:
            counts[variant(sku, size, color)] += quantity
    return counts


def window_ends(delivered_at: datetime.datetime, days: int) -> datetime.datetime:
    return delivered_at + datetime.timedelta(days=days)


def within_window(delivered_at: datetime.datetime | None, now: datetime.datetime, days: int) -> bool:
    """Whether she may still ask: `days` after delivery, to the second (0 days: never)."""
    return delivered_at is not None and days > 0 and now < window_ends(delivered_at, days)


def check_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidField("reason", "say why she returns it")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidField("reason", "control characters are not text")
    if len(text) > MAX_REASON:
        raise InvalidField("reason", f"length <= {MAX_REASON}")
    return text


def discount_share(value: int, prior: int, subtotal: int, discount: int) -> int:
    """The part of the order's discount that items worth `value` carry, after `prior` already refunded."""
    if subtotal <= 0 or discount <= 0:
        return 0
    return discount * min(subtotal, prior + value) // subtotal - discount * min(subtotal, prior) // subtotal


def refund(value: int, prior: int, subtotal: int, discount: int) -> int:
    """What she gets back for items worth `value` (kept prices): less their share of the discount."""
    return value - discount_share(value, prior, subtotal, discount)
