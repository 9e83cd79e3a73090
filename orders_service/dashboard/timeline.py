"""An order's events as staff read them: who, what changed (in words and đồng), COD before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orders_service.dashboard.pages import STATUS_LABELS, vnd
from orders_service.db.models import OrderEvent
from orders_service.geo import AddressError, resolve_units

EVENT_LABELS = {
    "created": "Tạo đơn",
    "amended": "Sửa đơn",
    "confirmed": "Xác nhận",
    "cancelled": "Huỷ đơn",
    "shipped": "Giao cho hãng vận chuyển",
    "merged_in": "Gộp đơn khác vào",
    "merged": "Đã gộp vào đơn khác",
    "split": "Tách đơn",
    "split_from": "Tách ra từ đơn khác",
    "delivery_reviewed": "Kiểm tra hàng hoàn",
    "returned": "Khách trả hàng",
    "sync_failed": "Hãng từ chối thay đổi",
    "sync_retried": "Thử đồng bộ lại",
    "courier_acknowledged": "Hãng đã nhận đơn",
    "recreate_failed": "Hãng đã huỷ vận đơn cũ, chưa nhận đơn mới",
    "label_replaced": "Vận đơn mới: cần in lại nhãn",
    "cod_mismatch": "COD hãng thu không khớp",
    "cancel_requested": "Yêu cầu huỷ: chờ hãng xác nhận huỷ vận đơn",
    "merge_requested": "Yêu cầu gộp: chờ hãng xác nhận huỷ vận đơn",
    "cancel_refused": "Hãng không huỷ vận đơn (đã lấy hàng)",
    "merge_failed": "Hãng đã huỷ vận đơn nhưng không gộp được",
    "return_moved": "Đơn hoàn phần khách không nhận",
}
ACTOR_LABELS = {"staff": "Nhân viên", "customer": "Khách hàng", "courier": "Hãng vận chuyển", "system": "Hệ thống"}
FIELD_LABELS = {
    "status": "Trạng thái",
    "recipient.name": "Người nhận",
    "recipient.phones": "Số điện thoại",
    "recipient.address": "Địa chỉ",
    "shipping.fee": "Phí giao hàng",
    "shipping.payer": "Người trả phí",
    "paid": "Đã trả trước",
    "discount.percent": "Giảm giá (%)",
    "discount.reason": "Lý do giảm giá",
    "note": "Ghi chú",
    "subtotal": "Tiền hàng",
    "discount_amount": "Giảm giá",
    "total": "Tổng cộng",
    "cod_amount": "Thu hộ (COD)",
    "refund_due": "Cần hoàn tiền",
}
MONEY = {"shipping.fee", "paid", "subtotal", "discount_amount", "total", "cod_amount", "refund_due"}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    seq: int
    at: Any
    actor: str
    what: str
    reason: str | None
    changes: list[Change]
    cod_before: int | None
    cod_after: int


def _address(value: dict[str, Any]) -> str:
    try:
        units = resolve_units(int(value["province_code"]), int(value["ward_code"]))
    except (AddressError, KeyError, TypeError, ValueError):
        return str(value)
    return f"{value.get('line', '')}, {units.ward_name}, {units.province_name}"


def _line(value: dict[str, Any]) -> str:
    variant = "/".join(str(value[k]) for k in ("size", "color") if value.get(k))
    price = f" · {vnd(value['unit_price'])}" if value.get("unit_price") is not None else ""
    return f"{value.get('name', value.get('sku', ''))} {variant} ×{value.get('quantity', 1)}{price}".strip()


def show(field: str, value: Any) -> str:
    """One value of a change, in words: đồng for money, names for places and statuses."""
    if value is None:
        return "-"
    if field in MONEY and isinstance(value, int):
        return vnd(value)
    if field == "status":
        return STATUS_LABELS.get(str(value), str(value))
    if field == "shipping.payer":
        return {"customer": "Khách trả", "shop": "Shop trả"}.get(str(value), str(value))
    if field == "recipient.address" and isinstance(value, dict):
        return _address(value)
    if field.startswith("lines.") and isinstance(value, dict):
        return _line(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def entry(event: OrderEvent) -> Entry:
    changes = [
        Change(
            label="Dòng hàng" if field.startswith("lines.") else FIELD_LABELS.get(field, field),
            before=show(field, change.get("before")),
            after=show(field, change.get("after")),
        )
        for field, change in event.changes.items()
        if isinstance(change, dict)
    ]
    kind = event.type
    what = EVENT_LABELS.get(kind) or (
        f"Hãng báo: {kind.removeprefix('courier_')}" if kind.startswith("courier_") else kind
    )
    actor = ACTOR_LABELS.get(event.actor_kind, event.actor_kind) + (f" {event.actor_id}" if event.actor_id else "")
    return Entry(event.seq, event.at, actor, what, event.reason, changes, event.cod_before, event.cod_after)
