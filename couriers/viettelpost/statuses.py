"""Viettel Post's numeric ORDER_STATUS codes and what each means on our status ladder (couriers.md §3.5)."""

from __future__ import annotations

from couriers.base import Status

# couriers.md §3.5 (secondary source: the Odoo module's status data and the Haravan/Getfly mapping pages). Each
# code maps to the rung it reports; the text is VTP's meaning, for messages.
STATUSES: dict[int, tuple[Status, str]] = {
    -100: (Status.CREATED, "Đơn hàng mới tạo, chưa duyệt"),
    100: (Status.CREATED, "Tiếp nhận đơn hàng từ đối tác, chờ VTP xử lý"),
    # VTP asks to cancel: nothing has left the shop, and only the partner's own cancel (107) ends the order.
    101: (Status.CREATED, "ViettelPost yêu cầu hủy đơn hàng"),
    102: (Status.CREATED, "Đơn hàng chờ xử lý"),
    103: (Status.CREATED, "Giao cho bưu cục"),
    104: (Status.CREATED, "Giao cho bưu tá đi nhận"),
    105: (Status.PICKED, "Bưu tá đã nhận hàng"),
    # The partner asks VTP to take the parcel back to the shop after pickup: it is in VTP's hands.
    106: (Status.PICKED, "Đối tác yêu cầu lấy lại hàng"),
    107: (Status.CANCELLED, "Đối tác yêu cầu hủy qua API"),
    200: (Status.PICKED, "Nhận từ bưu tá - Bưu cục gốc"),
    201: (Status.CANCELLED, "Hủy nhập phiếu gửi"),
    202: (Status.PICKED, "Sửa phiếu gửi"),
    300: (Status.IN_TRANSIT, "Khai thác đi"),
    301: (Status.IN_TRANSIT, "Đóng bảng kê đi"),
    302: (Status.IN_TRANSIT, "Đóng túi gói"),
    303: (Status.IN_TRANSIT, "Đóng chuyến thư"),
    400: (Status.IN_TRANSIT, "Khai thác đến"),
    401: (Status.IN_TRANSIT, "Nhận bảng kê đến"),
    402: (Status.IN_TRANSIT, "Nhận túi gói đến"),
    403: (Status.IN_TRANSIT, "Nhận chuyến thư đến"),
    500: (Status.OUT_FOR_DELIVERY, "Giao bưu tá đi phát"),
    501: (Status.DELIVERED, "Phát thành công"),
    # Failed attempts VTP follows with another attempt or a return: not yet RETURNING, which would forbid the
    # later delivery on our forward-only ladder (as GHN's waiting_to_return).
    505: (Status.DELIVERY_FAILED, "Tồn - Thông báo chuyển hoàn"),
    506: (Status.DELIVERY_FAILED, "Tồn - Khách hàng nghỉ, không có nhà"),
    507: (Status.DELIVERY_FAILED, "Tồn - Khách hàng đến bưu cục nhận"),
    508: (Status.OUT_FOR_DELIVERY, "Phát tiếp"),
    509: (Status.IN_TRANSIT, "Chuyển tiếp bưu cục khác"),
    510: (Status.DELIVERY_FAILED, "Hủy phân công phát"),
    550: (Status.OUT_FOR_DELIVERY, "Khách hàng yêu cầu phát tiếp"),
    # The customer refused at the door, or a return was approved: the parcel heads back to the shop.
    502: (Status.RETURNING, "Chuyển hoàn bưu cục gốc"),
    503: (Status.RETURNING, "Hủy theo yêu cầu khách hàng"),
    515: (Status.RETURNING, "Bưu cục phát duyệt hoàn"),
    504: (Status.RETURNED, "Hoàn thành công - chuyển trả người gửi"),
}

# [G] The statuses VTP takes UpdateOrder TYPE=4 (cancel) in: every one before the postman has the parcel. The docs
# give no list; the statuses after these count as picked up, so a recreate is never tried on a parcel VTP holds.
CANCELLABLE = frozenset(code for code, (status, _) in STATUSES.items() if status is Status.CREATED)
DELIVERED = 501


def status_for(code: int) -> Status:
    """Our status for a VTP code; KeyError for a code §3.5 does not document."""
    return STATUSES[code][0]


def status_text(code: int) -> str:
    return STATUSES[code][1] if code in STATUSES else f"status {code}"
