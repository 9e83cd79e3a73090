"""Ahamove's order and stop-point statuses, and what they mean on our status ladder (couriers.md §5)."""

from __future__ import annotations

from couriers.base import Status

# couriers.md §5 [C AHA-TESTTOOL]: the instant service's order statuses. CONFIRMING and PAYING appear in the cancel
# rules: the order still waits for its driver.
ORDER: dict[str, Status] = {
    "IDLE": Status.CREATED,  # scheduled for later
    "ASSIGNING": Status.CREATED,
    "CONFIRMING": Status.CREATED,
    "PAYING": Status.CREATED,
    "ACCEPTED": Status.CREATED,  # a driver is on the way to the shop
    # Same day, one driver: once he has the parcel he rides to the door. No hub, no separate "picked" step.
    "IN PROCESS": Status.OUT_FOR_DELIVERY,
    "COMPLETED": Status.DELIVERED,
    "CANCELLED": Status.CANCELLED,
}
# [C AHA-WH] the warehouse flow's statuses, which Ahamove also reports per stop point.
WAREHOUSE: dict[str, Status] = {
    "PICKED_UP": Status.PICKED,
    "TRANSPORTING": Status.IN_TRANSIT,
    "FAILED_1": Status.DELIVERY_FAILED,
    "FAILED_2": Status.DELIVERY_FAILED,
    "FAILED_3": Status.DELIVERY_FAILED,
    "IN_RETURN": Status.RETURNING,
    "RETURN_FAILED": Status.RETURNING,
    "RETURNED": Status.RETURNED,
}
# The statuses PATCH /v3/orders/{id} takes (§5 [C AHA-UPDATE]) and the v1 cancel takes (§5 [C AHA-CANCEL]).
AMENDABLE = frozenset({"IDLE", "ASSIGNING", "ACCEPTED"})
CANCELLABLE = frozenset({"ASSIGNING", "ACCEPTED", "CONFIRMING", "PAYING", "IDLE"})
DROP_DONE, DROP_FAILED = "COMPLETED", "FAILED"


def status_of(order_status: str, point_status: str | None) -> Status | None:
    """The rung reported by an order status and its drop point's status, or None for one this table lacks.

    A failed drop point means the driver could not deliver: while the order is IN PROCESS he brings the parcel
    back, and a COMPLETED order whose drop point failed has been returned to the shop.
    """
    point = (point_status or "").strip().upper()
    if point in WAREHOUSE:
        return WAREHOUSE[point]
    known = ORDER.get(order_status.strip().upper())
    if known is None:
        return None
    if point == DROP_FAILED:
        if known is Status.DELIVERED:
            return Status.RETURNED
        if known is Status.OUT_FOR_DELIVERY:
            return Status.RETURNING
    return known


def raw_status(order_status: str, point_status: str | None) -> str:
    """What the shipment records as the courier's own status: the order's, and the drop point's when it has one."""
    point = (point_status or "").strip().upper()
    return f"{order_status.strip().upper()}/{point}" if point else order_status.strip().upper()
