"""GHTK's numeric status ids and what each means on our status ladder (couriers.md §2.5)."""

from __future__ import annotations

from couriers.base import Status

# couriers.md §2.5, the status_id table (secondary source: the same table across integrator repos, which link
# to GHTK's doc section 8). Each id maps to the rung it reports; the text is GHTK's meaning, for messages.
STATUSES: dict[int, tuple[Status, str]] = {
    -1: (Status.CANCELLED, "Hủy đơn hàng"),
    1: (Status.CREATED, "Chưa tiếp nhận"),
    2: (Status.CREATED, "Đã tiếp nhận"),
    12: (Status.CREATED, "Đang lấy hàng"),
    # Pickup postponed or impossible: the parcel may still be at the shop, but GHTK cancels only in 1, 2 and 12
    # (§2.4), so from here the order can no longer be cancelled and recreated. They count as picked up: nothing
    # changes any more (GHTK has no amend API), and a recreate is never tried on an order GHTK will not cancel.
    8: (Status.PICKED, "Hoãn lấy hàng"),
    7: (Status.PICKED, "Không lấy được hàng"),
    3: (Status.PICKED, "Đã lấy hàng/Đã nhập kho"),
    # "Đã điều phối giao hàng/Đang giao hàng": the doc's own words are "delivering".
    4: (Status.OUT_FOR_DELIVERY, "Đã điều phối giao hàng/Đang giao hàng"),
    # Delayed and impossible delivery are both failed attempts; GHTK then retries or moves to 20 (returning),
    # so 9 is not mapped to RETURNING, which would forbid a later delivery on our forward-only ladder.
    10: (Status.DELIVERY_FAILED, "Delay giao hàng"),
    9: (Status.DELIVERY_FAILED, "Không giao được hàng"),
    5: (Status.DELIVERED, "Đã giao hàng/Chưa đối soát"),
    6: (Status.DELIVERED, "Đã đối soát"),
    20: (Status.RETURNING, "Đang trả hàng (COD cầm hàng đi trả)"),
    21: (Status.RETURNED, "Đã trả hàng (COD đã trả xong hàng)"),
    11: (Status.RETURNED, "Đã đối soát công nợ trả hàng"),
    # Compensation: the parcel was lost or damaged and GHTK pays for it. Our ladder has no "lost" rung; RETURNED
    # is the terminal rung where nothing was delivered and no money was collected.
    13: (Status.RETURNED, "Bồi hoàn"),
    # Shipper reports. §2.5: "không phải trạng thái đơn hàng" (not order statuses). They are mapped for
    # messages and completeness, but parse_webhook yields no event for them (see SHIPPER_REPORTS).
    123: (Status.PICKED, "Shipper báo đã lấy hàng"),
    127: (Status.CREATED, "Shipper (nhân viên lấy/giao hàng) báo không lấy được hàng"),
    128: (Status.CREATED, "Shipper báo delay lấy hàng"),
    45: (Status.DELIVERED, "Shipper báo đã giao hàng"),
    49: (Status.DELIVERY_FAILED, "Shipper báo không giao được giao hàng"),
    410: (Status.DELIVERY_FAILED, "Shipper báo delay giao hàng"),
}

# A shipper's report may be wrong, and our ladder never moves down: applying "45 delivered" would complete the
# order (and accrue loyalty) before GHTK itself confirms 5, with no way back if 9 follows. §2.5 says not to
# change state on these, so the webhook is acknowledged and nothing is applied.
SHIPPER_REPORTS = frozenset({123, 127, 128, 45, 49, 410})

# §2.4: cancel is accepted only in these; every other status counts as picked up (see 7 and 8 above).
CANCELLABLE = frozenset({1, 2, 12})

# Statuses after which the customer has the goods: where return_part_package=1 means a partial delivery.
DELIVERED = frozenset({5, 6})


def status_for(status_id: int) -> Status:
    """Our status for a GHTK status id; KeyError for an id §2.5 does not document."""
    return STATUSES[status_id][0]


def status_text(status_id: int) -> str:
    return STATUSES[status_id][1] if status_id in STATUSES else f"status {status_id}"
