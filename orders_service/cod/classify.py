"""The pure rule: a statement row against the order it names, explained from the order's events. No I/O, no clock."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class RowStatus(enum.StrEnum):
    MATCHED = "matched"  # the courier collected what the order says was due
    MISMATCH = "mismatch"  # it did not: `expected` and an explanation say what was due and why it may differ
    UNKNOWN = "unknown"  # no order of ours has this tracking code at this courier


@dataclass(frozen=True)
class CodChange:
    """One order event, as far as COD goes: the version it made, its type, the COD before and after."""

    version: int
    type: str
    cod_before: int | None
    cod_after: int


@dataclass(frozen=True)
class OrderFacts:
    """What the order says now, what its courier acknowledged, and its events (oldest first)."""

    code: str
    status: str
    cod_due: int  # the order's COD now (0 once nothing is due: returned, cancelled)
    events: Sequence[CodChange]
    acknowledged_version: int | None = None  # the order version the courier last acknowledged
    acknowledged_cod: int | None = None  # the COD the courier said it would collect, as it last acknowledged
    reported_cod: int | None = None  # the COD the courier's delivery report said it collected


@dataclass(frozen=True)
class Verdict:
    status: RowStatus
    expected: int | None = None
    explanation: str | None = None


DELIVERED = frozenset({"delivered", "partially_delivered"})
# A parcel coming back, or never sent (cancelled, merged into another order's parcel): nothing to collect on it.
NOTHING_COLLECTED = frozenset({"returning", "returned", "cancelled", "merged"})


def due_on_statement(status: str, cod_amount: int) -> int:
    """The COD a courier should have collected on an order in `status` whose COD is `cod_amount`."""
    return 0 if status in NOTHING_COLLECTED else cod_amount


def vnd(amount: int) -> str:
    """590000 -> "590,000 ₫"."""
    return f"{amount:,} ₫"


def classify(courier: str, tracking_code: str, cod_collected: int, order: OrderFacts | None) -> Verdict:
    """Matched when the courier collected what the order says was due; else a mismatch, explained."""
    if order is None:
        return Verdict(RowStatus.UNKNOWN, explanation=f"no order has {courier} tracking code {tracking_code}")
    if cod_collected == order.cod_due:
        return Verdict(RowStatus.MATCHED, expected=order.cod_due)
    return Verdict(RowStatus.MISMATCH, expected=order.cod_due, explanation=explain(cod_collected, order))


def cod_at(events: Sequence[CodChange], version: int) -> int | None:
    """The order's COD as it stood at `version`: the last event at or before it says."""
    found = None
    for event in events:
        if event.version <= version:
            found = event.cod_after
    return found


def explain(cod_collected: int, order: OrderFacts) -> str:
    """Why the courier's amount may differ, in the order of the story: the last COD change, what the courier had
    acknowledged by then, which version's COD the amount collected is, and by how much it differs."""
    parts = []
    changes = [e for e in order.events if e.cod_before is not None and e.cod_before != e.cod_after]
    last = changes[-1] if changes else None
    if last is None:
        parts.append(f"the order's COD has been {vnd(order.cod_due)} since it was created")
    else:
        parts.append(f"COD changed to {vnd(last.cod_after)} at v{last.version} ({last.type})")
    if order.status not in DELIVERED:
        due = "nothing is due" if order.cod_due == 0 else f"{vnd(order.cod_due)} is due on delivery"
        parts.append(f"order {order.code} is {order.status}: {due}")
    acked = order.acknowledged_version
    if acked is not None and last is not None and acked < last.version:
        # The order's COD at that version is what the courier was sent then; the shipment's own copy is
        # overwritten by what a delivery report says was collected.
        held = cod_at(order.events, acked)
        held = order.acknowledged_cod if held is None else held
        held_text = f" with {vnd(held)}" if held is not None else ""
        parts.append(f"the courier acknowledged v{acked}{held_text}")
    elif acked is None and last is not None:
        parts.append("the courier never acknowledged a version")
    earlier = [e.version for e in order.events if e.cod_after == cod_collected and e is not last]
    if earlier and (last is None or cod_collected != last.cod_after):
        parts.append(f"the amount collected is the COD of v{earlier[-1]}")
    if order.reported_cod is not None and order.reported_cod != cod_collected:
        parts.append(f"the courier's delivery report said {vnd(order.reported_cod)}")
    gap = cod_collected - order.cod_due
    side = "more" if gap > 0 else "less"
    parts.append(f"collected {vnd(cod_collected)}, {vnd(abs(gap))} {side} than the {vnd(order.cod_due)} due")
    return "; ".join(parts)
