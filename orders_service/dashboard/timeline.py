"""An order's events as staff read them: who, what changed (in words and đồng), COD before and after."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from orders_service.dashboard.i18n import N_, gettext
from orders_service.dashboard.pages import STATUS_LABELS, vnd
from orders_service.db.models import OrderEvent
from orders_service.geo import AddressError, resolve_units

EVENT_LABELS = {
    "created": N_("Tạo đơn"),
    "amended": N_("Sửa đơn"),
    "confirmed": N_("Xác nhận"),
    "cancelled": N_("Huỷ đơn"),
    "shipped": N_("Giao cho hãng vận chuyển"),
    "merged_in": N_("Gộp đơn khác vào"),
    "merged": N_("Đã gộp vào đơn khác"),
    "split": N_("Tách đơn"),
    "split_from": N_("Tách ra từ đơn khác"),
    "delivery_reviewed": N_("Kiểm tra hàng hoàn"),
    "returned": N_("Khách trả hàng"),
    "return_requested": N_("Khách yêu cầu trả hàng"),
    "return_approved": N_("Duyệt yêu cầu trả hàng"),
    "return_rejected": N_("Từ chối yêu cầu trả hàng"),
    "sync_failed": N_("Hãng từ chối thay đổi"),
    "sync_retried": N_("Thử đồng bộ lại"),
    "courier_acknowledged": N_("Hãng đã nhận đơn"),
    "recreate_failed": N_("Hãng đã huỷ vận đơn cũ, chưa nhận đơn mới"),
    "label_replaced": N_("Vận đơn mới: cần in lại nhãn"),
    "cod_mismatch": N_("COD hãng thu không khớp"),
    "cancel_requested": N_("Yêu cầu huỷ: chờ hãng xác nhận huỷ vận đơn"),
    "merge_requested": N_("Yêu cầu gộp: chờ hãng xác nhận huỷ vận đơn"),
    "cancel_refused": N_("Hãng không huỷ vận đơn (đã lấy hàng)"),
    "merge_failed": N_("Hãng đã huỷ vận đơn nhưng không gộp được"),
    "return_moved": N_("Đơn hoàn phần khách không nhận"),
    "edit_link_created": N_("Gửi link sửa đơn cho khách"),
    "edit_link_revoked": N_("Thu hồi link sửa đơn"),
    "customer_merged": N_("Gộp hồ sơ khách hàng"),
}
# What a courier reports (couriers.base.Status), shown as "Hãng báo: ..." and on the shipment.
COURIER_STATUS_LABELS = {
    "created": N_("Đã tạo vận đơn, chờ lấy hàng"),
    "picked": N_("Đã lấy hàng"),
    "in_transit": N_("Đang vận chuyển"),
    "out_for_delivery": N_("Đang giao cho khách"),
    "delivery_failed": N_("Giao không thành công"),
    "delivered": N_("Đã giao"),
    "partially_delivered": N_("Giao một phần"),
    "returning": N_("Đang hoàn về shop"),
    "returned": N_("Đã hoàn về shop"),
    "cancelled": N_("Đã huỷ vận đơn"),
}
# Notes whose text the service writes in English for the API's readers: the label says it all on the page.
# The services' English first words of a reason (what staff typed follows after ": "), in words.
REASONS = [
    (re.compile(r"split into ([A-Z0-9, ]+)(?:: (.*))?", re.S), N_("Tách thành %(codes)s")),
    (re.compile(r"split from ([A-Z0-9]+)(?:: (.*))?", re.S), N_("Tách từ %(codes)s")),
    (re.compile(r"merged into ([A-Z0-9]+)(?:: (.*))?", re.S), N_("Gộp vào %(codes)s")),
]
CODE_NOTES = {"edit_link_created", "edit_link_revoked", "customer_merged", "sync_retried"}
ACTOR_LABELS = {
    "staff": N_("Nhân viên"),
    "customer": N_("Khách hàng"),
    "courier": N_("Hãng vận chuyển"),
    "system": N_("Hệ thống"),
}
PAYER_LABELS = {"customer": N_("Khách trả"), "shop": N_("Shop trả")}
FIELD_LABELS = {
    "status": N_("Trạng thái"),
    "recipient.name": N_("Người nhận"),
    "recipient.phones": N_("Số điện thoại"),
    "recipient.address": N_("Địa chỉ"),
    "shipping.fee": N_("Phí giao hàng"),
    "shipping.payer": N_("Người trả phí"),
    "paid": N_("Đã trả trước"),
    "discount.percent": N_("Giảm giá (%)"),
    "discount.reason": N_("Lý do giảm giá"),
    "note": N_("Ghi chú"),
    "subtotal": N_("Tiền hàng"),
    "discount_amount": N_("Giảm giá"),
    "total": N_("Tổng cộng"),
    "cod_amount": N_("Thu hộ (COD)"),
    "refund_due": N_("Cần hoàn tiền"),
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
    kind: str
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
        return gettext(STATUS_LABELS.get(str(value), str(value)))
    if field == "shipping.payer":
        return gettext(PAYER_LABELS.get(str(value), str(value)))
    if field == "recipient.address" and isinstance(value, dict):
        return _address(value)
    if field.startswith("lines.") and isinstance(value, dict):
        return _line(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def courier_status(status: str | None) -> str:
    return "-" if not status else gettext(COURIER_STATUS_LABELS.get(status, status))


def what(kind: str) -> str:
    """An event type in words: its label, a status the order moved to, or what the courier reported."""
    if kind in EVENT_LABELS:
        return gettext(EVENT_LABELS[kind])
    if kind in STATUS_LABELS:
        return gettext("Chuyển sang: %(status)s") % {"status": gettext(STATUS_LABELS[kind])}
    if kind.startswith("courier_"):
        return gettext("Hãng báo: %(status)s") % {"status": courier_status(kind.removeprefix("courier_"))}
    return kind


def actor(kind: str, ident: str | None) -> str:
    """Who did it: a staff user by name, the customer (through her link), the courier by name, or the system."""
    if kind == "customer" and ident and ident.startswith("link:"):
        return gettext("Khách (qua liên kết)")
    if kind == "staff" and ident:
        return ident
    if kind == "courier" and ident:
        return ident.upper()
    return gettext(ACTOR_LABELS.get(kind, kind))


def reason_words(reason: str | None) -> str | None:
    """ "split into DH1, DH2: đổi ý" -> "Tách thành DH1, DH2: đổi ý"; a reason staff or a courier wrote, as is."""
    if not reason:
        return reason
    for pattern, words in REASONS:
        found = pattern.fullmatch(reason)
        if found:
            said = gettext(words) % {"codes": found.group(1)}
            return f"{said}: {found.group(2)}" if found.group(2) else said
    return reason


def entry(event: OrderEvent) -> Entry:
    changes = [
        Change(
            label=gettext("Dòng hàng") if field.startswith("lines.") else gettext(FIELD_LABELS.get(field, field)),
            before=show(field, change.get("before")),
            after=show(field, change.get("after")),
        )
        for field, change in event.changes.items()
        if isinstance(change, dict)
    ]
    reason = None if event.type in CODE_NOTES else reason_words(event.reason)
    return Entry(
        event.seq,
        event.type,
        event.at,
        actor(event.actor_kind, event.actor_id),
        what(event.type),
        reason,
        changes,
        event.cod_before,
        event.cod_after,
    )
