"""GHN's status strings, what each means on our status ladder, and the statuses each amend call accepts."""

from __future__ import annotations

from couriers.base import Status

# couriers.md §1.6 (secondary source: the `OrderStatus` enum of the Laravel SDK; the same strings appear in the
# webhook). Each status maps to the rung it reports; the text is GHN's Vietnamese label, used in messages.
STATUSES: dict[str, tuple[Status, str]] = {
    "ready_to_pick": (Status.CREATED, "Chờ lấy hàng"),
    "picking": (Status.CREATED, "Đang lấy hàng"),
    # The driver is at the shop sorting out money or goods: nothing has left the shop yet.
    "money_collect_picking": (Status.CREATED, "Đang tương tác với người gửi"),
    "picked": (Status.PICKED, "Lấy hàng thành công"),
    "storing": (Status.IN_TRANSIT, "Nhập kho"),
    "transporting": (Status.IN_TRANSIT, "Đang luân chuyển"),
    "sorting": (Status.IN_TRANSIT, "Đang phân loại"),
    "delivering": (Status.OUT_FOR_DELIVERY, "Đang giao hàng"),
    "money_collect_delivering": (Status.OUT_FOR_DELIVERY, "Đang tương tác với người nhận"),
    "delivered": (Status.DELIVERED, "Giao hàng thành công"),
    "delivery_fail": (Status.DELIVERY_FAILED, "Giao hàng thất bại"),
    # GHN waits for the shop to choose between another attempt and a return: still a failed delivery, not yet
    # RETURNING, which would forbid the later delivery on our forward-only ladder.
    "waiting_to_return": (Status.DELIVERY_FAILED, "Chờ xác nhận giao lại"),
    "return": (Status.RETURNING, "Chờ trả hàng"),
    "return_transporting": (Status.RETURNING, "Đang luân chuyển hàng trả"),
    "return_sorting": (Status.RETURNING, "Đang phân loại hàng trả"),
    "returning": (Status.RETURNING, "Đang trả hàng"),
    # A failed return attempt: GHN still holds the parcel and tries again.
    "return_fail": (Status.RETURNING, "Trả hàng thất bại"),
    "returned": (Status.RETURNED, "Trả hàng thành công"),
    "cancel": (Status.CANCELLED, "Hủy đơn hàng"),
    # The ladder has no rung for incidents. An exception is a hold-up GHN resolves into a later status, so it
    # reports no progress; lost or damaged goods will not be delivered, which staff must handle like a failed
    # delivery. The webhook's description goes into the event message either way.
    "exception": (Status.IN_TRANSIT, "Đơn hàng ngoại lệ"),
    "lost": (Status.DELIVERY_FAILED, "Hàng bị mất"),
    "damage": (Status.DELIVERY_FAILED, "Hàng bị hư hỏng"),
}

INCIDENTS = frozenset({"exception", "lost", "damage"})
BEFORE_PICKUP = frozenset({"ready_to_pick", "picking", "money_collect_picking"})
# updateCOD per GHN's blog (couriers.md §1.5); shipping-order/update's own list is cut off in the docs, so the
# same list is assumed for it (as couriers/capabilities.py does). Never while or after delivering.
AMENDABLE = BEFORE_PICKUP | frozenset(
    {"picked", "storing", "transporting", "sorting", "delivery_fail", "waiting_to_return"}
)


def status_of(raw: str, *, partial: bool = False) -> Status | None:
    """The rung a GHN status reports, or None for a status this table does not know."""
    known = STATUSES.get(raw)
    if known is None:
        return None
    # GHN reports a partial delivery as `delivered` with IsPartialReturn (couriers.md §1.8).
    if known[0] is Status.DELIVERED and partial:
        return Status.PARTIALLY_DELIVERED
    return known[0]


def label(raw: str) -> str:
    return STATUSES[raw][1] if raw in STATUSES else raw
