"""Money rules of the contract, exact in integer VND."""

from __future__ import annotations

from msgspec import Struct

from orders_service.domain.model import Line, Order, OrderStatus, Payer

# Nothing is collected for these: a cancelled order refunds what was paid; a merged one moved its payments on.
NOTHING_DUE = frozenset({OrderStatus.CANCELLED, OrderStatus.MERGED})


class Totals(Struct, frozen=True):
    subtotal: int
    discount_amount: int
    total: int
    cod_amount: int
    refund_due: int


def line_amount(line: Line) -> int:
    """A try-on line counts what was kept, or until then its `quantity` most expensive options."""
    if line.kept is not None:
        return sum(item.unit_price * item.quantity for item in line.kept)
    if line.tryon_options is not None:
        prices = sorted((option.unit_price for option in line.tryon_options), reverse=True)
        return sum(prices[: line.quantity])
    return (line.unit_price or 0) * line.quantity


def compute_totals(order: Order) -> Totals:
    subtotal = sum(line_amount(line) for line in order.lines)
    discount_amount = subtotal * order.discount_percent // 100
    fee = order.shipping.fee if order.shipping.payer is Payer.CUSTOMER else 0
    total = subtotal - discount_amount + fee
    due = 0 if order.status in NOTHING_DUE else total
    return Totals(
        subtotal=subtotal,
        discount_amount=discount_amount,
        total=total,
        cod_amount=max(0, due - order.paid),
        refund_due=max(0, order.paid - due),
    )


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Share `amount` in proportion to `weights` by largest remainder, so the parts sum to it exactly."""
    if amount < 0 or any(w < 0 for w in weights) or not weights:
        raise ValueError("allocate needs a non-negative amount and at least one non-negative weight")
    total_weight = sum(weights)
    if total_weight == 0:
        weights, total_weight = [1] * len(weights), len(weights)
    quotients = [divmod(amount * w, total_weight) for w in weights]
    shares = [q for q, _ in quotients]
    leftover = amount - sum(shares)
    # Ties go to the earlier part, so the result is deterministic.
    by_remainder = sorted(range(len(weights)), key=lambda i: (-quotients[i][1], i))
    for index in by_remainder[:leftover]:
        shares[index] += 1
    return shares
