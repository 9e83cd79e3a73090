"""Field-level differences between two versions of an order, for the audit trail."""

from __future__ import annotations

from typing import Any

import msgspec

from orders_service.domain.model import Address, Line, Order
from orders_service.domain.money import compute_totals

Change = dict[str, Any]


def _line_view(line: Line) -> dict[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(line).items() if v is not None and k != "id"}


def _address_view(address: Address) -> dict[str, Any]:
    """The address as events record it: what was typed (`input`) only when there was something."""
    return {k: v for k, v in msgspec.to_builtins(address).items() if v is not None}


def diff(before: Order | None, after: Order) -> dict[str, Change]:
    """Return {field: {before, after}} for every field that differs; lines are keyed by their id.

    Against None (a new order) every field is noted, so an order's events replay to its current state.
    """
    if before is None:
        return {field: {"before": None, "after": change["after"]} for field, change in snapshot(after).items()}
    changes: dict[str, Change] = {}

    def note(field: str, old: Any, new: Any) -> None:
        if old != new:
            changes[field] = {"before": old, "after": new}

    note("status", str(before.status), str(after.status))
    note("recipient.name", before.recipient.name, after.recipient.name)
    note("recipient.phones", list(before.recipient.phones), list(after.recipient.phones))
    note("recipient.address", _address_view(before.recipient.address), _address_view(after.recipient.address))
    old_lines = {line.id: line for line in before.lines}
    new_lines = {line.id: line for line in after.lines}
    for line_id in [*old_lines, *(i for i in new_lines if i not in old_lines)]:
        old, new = old_lines.get(line_id), new_lines.get(line_id)
        if old != new:
            note(f"lines.{line_id}", old and _line_view(old), new and _line_view(new))
    note("shipping.fee", before.shipping.fee, after.shipping.fee)
    note("shipping.payer", str(before.shipping.payer), str(after.shipping.payer))
    note("paid", before.paid, after.paid)
    note("discount.percent", before.discount_percent, after.discount_percent)
    note("discount.reason", before.discount_reason, after.discount_reason)
    note("note", before.note, after.note)
    note("courier", before.courier, after.courier)  # chosen at ship time (staff or the shop's rule)
    old_totals, new_totals = compute_totals(before), compute_totals(after)
    for field in ("subtotal", "discount_amount", "total", "cod_amount", "refund_due"):
        note(field, getattr(old_totals, field), getattr(new_totals, field))
    return changes


def snapshot(order: Order) -> dict[str, Change]:
    """Every field of `order` as a change from nothing."""
    totals = compute_totals(order)
    values: dict[str, Any] = {
        "status": str(order.status),
        "recipient.name": order.recipient.name,
        "recipient.phones": list(order.recipient.phones),
        "recipient.address": _address_view(order.recipient.address),
        **{f"lines.{line.id}": _line_view(line) for line in order.lines},
        "shipping.fee": order.shipping.fee,
        "shipping.payer": str(order.shipping.payer),
        "paid": order.paid,
        "note": order.note,
        **{f: getattr(totals, f) for f in ("subtotal", "discount_amount", "total", "cod_amount", "refund_due")},
    }
    return {field: {"before": None, "after": value} for field, value in values.items() if value is not None}
