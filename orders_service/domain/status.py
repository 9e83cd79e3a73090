"""The status machine and the data-driven gate: which operation, by whom, in which status."""

from __future__ import annotations

from collections.abc import Iterable

from orders_service.domain.errors import InvalidTransition, OrderNotAmendable
from orders_service.domain.model import ActorKind, OrderStatus
from orders_service.domain.operations import OPERATION_NAMES
from orders_service.domain.outside import Aspect, CourierRules

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.CANCELLED, S.MERGED}),
    S.CONFIRMED: frozenset({S.READY_TO_SHIP, S.CANCELLED, S.MERGED}),
    S.READY_TO_SHIP: frozenset({S.IN_TRANSIT, S.CANCELLED, S.MERGED}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.PARTIALLY_DELIVERED, S.RETURNING, S.NEEDS_REVIEW}),
    # Staff say what was kept (delivered, partially delivered, or nothing: returning); or it all comes back.
    S.NEEDS_REVIEW: frozenset({S.DELIVERED, S.PARTIALLY_DELIVERED, S.RETURNING, S.RETURNED}),
    S.RETURNING: frozenset({S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.PARTIALLY_DELIVERED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
    S.MERGED: frozenset(),
}

_ALL = frozenset(OPERATION_NAMES)
_ITEMS = frozenset({"add_line", "remove_line", "set_quantity", "swap_variant", "set_tryon_options"})

# Which operations each order status admits at all; after pickup the courier narrows it further.
AMENDABLE: dict[OrderStatus, frozenset[str]] = {
    S.PENDING: _ALL,
    S.CONFIRMED: _ALL,
    S.READY_TO_SHIP: _ALL,
    S.IN_TRANSIT: _ALL - _ITEMS - {"redeem_points"},
    **{
        status: frozenset()
        for status in (
            S.NEEDS_REVIEW,
            S.DELIVERED,
            S.PARTIALLY_DELIVERED,
            S.RETURNING,
            S.RETURNED,
            S.CANCELLED,
            S.MERGED,
        )
    },
}

# Who may use which operation; anything not listed here is open to staff and customers alike.
RESTRICTED: dict[str, frozenset[ActorKind]] = {
    "add_payment": frozenset({ActorKind.STAFF, ActorKind.SYSTEM}),
    "set_shipping": frozenset({ActorKind.STAFF, ActorKind.SYSTEM}),
}

# Operations that close at pickup although the status's own reason speaks of something else.
WHY_CLOSED_AT_PICKUP: dict[str, str] = {
    "redeem_points": "points are spent before pickup, while the shop can still change the COD",
}

WHY_CLOSED: dict[OrderStatus, str] = {
    S.IN_TRANSIT: "the parcel is with the courier: items can no longer change",
    S.NEEDS_REVIEW: "the courier reported a partial delivery; staff must first review what the customer kept",
    S.DELIVERED: "the order was delivered",
    S.PARTIALLY_DELIVERED: "the order was delivered",
    S.RETURNING: "the parcel is on its way back to the shop",
    S.RETURNED: "the parcel came back to the shop",
    S.CANCELLED: "the order was cancelled",
    S.MERGED: "the order was merged into another order",
}


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"an order that is {current} cannot become {target}")


def _onward(current: OrderStatus) -> frozenset[OrderStatus]:
    """Every status `current` leads to, in one move or several."""
    seen: set[OrderStatus] = set()
    todo = [current]
    while todo:
        for status in TRANSITIONS[todo.pop()] - seen:
            seen.add(status)
            todo.append(status)
    return frozenset(seen)


def courier_moves(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether a courier's report moves an order from `current` to `target`: forward only, missed steps implied.

    An order in review waits for staff to say what was kept; only the whole parcel coming back moves it on.
    """
    if current is S.NEEDS_REVIEW:
        return target is S.RETURNED
    return target in _onward(current)


def check_operations(status: OrderStatus, names: Iterable[str], actor: ActorKind) -> None:
    """Refuse, before anything is applied, an operation the status or the actor does not allow."""
    allowed = AMENDABLE[status]
    for name in names:
        if name not in allowed:
            reason = WHY_CLOSED.get(status, f"the order is {status}")
            if status is S.IN_TRANSIT:
                reason = WHY_CLOSED_AT_PICKUP.get(name, reason)
            raise OrderNotAmendable(f"{name} is not possible: {reason}")
        if name in RESTRICTED and actor not in RESTRICTED[name]:
            raise OrderNotAmendable(f"{name} is for shop staff only")


def check_courier_accepts(
    status: OrderStatus, rules: CourierRules, courier_status: str | None, changed: frozenset[Aspect]
) -> None:
    """After pickup, only the aspects the courier still accepts in its current status may change."""
    if status is not S.IN_TRANSIT or not changed:
        return
    # The table may hold the couriers' own Aspect members: compare by value, which both enums share.
    accepted = {str(aspect) for aspect in rules.after_pickup.get(courier_status or "", frozenset())}
    refused = sorted(aspect.value for aspect in changed if aspect.value not in accepted)
    if refused:
        raise OrderNotAmendable(f"cannot change {', '.join(refused)}: {rules.after_pickup_refusal}")
