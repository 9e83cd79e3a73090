"""The page's words, Vietnamese first, English on ?lang=en (remembered by a cookie); and VND amounts."""

from __future__ import annotations

from collections.abc import Mapping

from notifications.money import format_vnd

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "lang"

VI: dict[str, str] = {
    "title": "Đơn hàng của bạn",
    "order": "Đơn hàng",
    "status": "Trạng thái",
    "status.pending": "Chờ xác nhận",
    "status.confirmed": "Đã xác nhận",
    "status.ready_to_ship": "Chờ giao cho đơn vị vận chuyển",
    "status.cancelled": "Đã huỷ",
    "expires": "Liên kết dùng được đến",
    "items": "Sản phẩm",
    "variant": "Size / màu",
    "quantity": "Số lượng",
    "quantity.remove": "0 (bỏ sản phẩm này)",
    "tryon": "Hàng thử tại nhà",
    "recipient": "Người nhận",
    "name": "Họ tên",
    "phone": "Số điện thoại",
    "phone.more": "Số điện thoại khác (không bắt buộc)",
    "address": "Địa chỉ giao hàng",
    "province": "Tỉnh / thành phố",
    "ward": "Phường / xã",
    "street": "Số nhà, tên đường",
    "subtotal": "Tiền hàng",
    "discount": "Giảm giá",
    "shipping": "Phí giao hàng",
    "paid": "Đã trả trước",
    "cod": "Số tiền trả khi nhận hàng",
    "new_cod": "Số tiền mới trả khi nhận hàng",
    "preview": "Xem số tiền mới",
    "confirm": "Xác nhận thay đổi",
    "preview.hint": "Kiểm tra số tiền mới rồi bấm Xác nhận. Chưa có gì được lưu.",
    "saved": "Đã lưu thay đổi. Cửa hàng và đơn vị vận chuyển sẽ được cập nhật.",
    "free_until": "Bạn có thể sửa đơn thoải mái đến {time} (giờ Việt Nam), "
    "trước khi đơn được giao cho hãng vận chuyển.",
    "changed": "Cửa hàng vừa cập nhật đơn hàng này. Đây là đơn hàng mới nhất, vui lòng xem lại rồi thay đổi.",
    "cancel.title": "Huỷ đơn hàng",
    "cancel.check": "Tôi muốn huỷ đơn hàng này",
    "cancel.button": "Huỷ đơn hàng",
    "cancelled": "Đơn hàng đã được huỷ.",
    "cancel_requested": "Đã gửi yêu cầu huỷ. Đơn sẽ được huỷ khi đơn vị vận chuyển xác nhận huỷ vận đơn.",
    "errors": "Vui lòng kiểm tra lại",
    "err.nothing": "Bạn chưa thay đổi gì.",
    "err.recipient": "Họ tên hoặc số điện thoại chưa đúng.",
    "err.address": "Địa chỉ chưa đúng: chọn phường / xã thuộc tỉnh / thành đã chọn và ghi số nhà, tên đường.",
    "err.line": "Lựa chọn sản phẩm này chưa đúng.",
    "err.order": "Đơn hàng không thể thay đổi như vậy.",
    "csrf.title": "Không gửi được",
    "csrf.body": "Trang này đã cũ hoặc không được mở từ liên kết của bạn. Vui lòng tải lại trang rồi thử lại.",
    "expired.title": "Liên kết đã hết hạn",
    "expired.body": "Liên kết này không còn dùng được. Vui lòng liên hệ cửa hàng để nhận liên kết mới.",
    "notfound.title": "Liên kết không hợp lệ",
    "notfound.body": "Liên kết này không mở được đơn hàng nào. Vui lòng kiểm tra lại hoặc liên hệ cửa hàng.",
    "busy.title": "Quá nhiều yêu cầu",
    "busy.body": "Vui lòng đợi một chút rồi thử lại.",
    "shop": "Cửa hàng",
    "lang.other": "English",
}

EN: dict[str, str] = {
    "title": "Your order",
    "order": "Order",
    "status": "Status",
    "status.pending": "Awaiting confirmation",
    "status.confirmed": "Confirmed",
    "status.ready_to_ship": "Waiting for the courier",
    "status.cancelled": "Cancelled",
    "expires": "This link works until",
    "items": "Items",
    "variant": "Size / colour",
    "quantity": "Quantity",
    "quantity.remove": "0 (remove this item)",
    "tryon": "Try at home",
    "recipient": "Recipient",
    "name": "Full name",
    "phone": "Phone",
    "phone.more": "Another phone (optional)",
    "address": "Delivery address",
    "province": "Province / city",
    "ward": "Ward / commune",
    "street": "House number, street",
    "subtotal": "Items total",
    "discount": "Discount",
    "shipping": "Delivery fee",
    "paid": "Paid in advance",
    "cod": "To pay on delivery",
    "new_cod": "New amount to pay on delivery",
    "preview": "See the new amount",
    "confirm": "Confirm the changes",
    "preview.hint": "Check the new amount, then press Confirm. Nothing is saved yet.",
    "saved": "Your changes are saved. The shop and the courier will be updated.",
    "free_until": "You can change your order freely until {time} (Vietnam time), before it goes to the courier.",
    "changed": "The shop has just updated this order. This is the latest version: please check it, then change it.",
    "cancel.title": "Cancel the order",
    "cancel.check": "I want to cancel this order",
    "cancel.button": "Cancel the order",
    "cancelled": "The order is cancelled.",
    "cancel_requested": "Cancellation asked. The order is cancelled once the courier confirms it cancelled the parcel.",
    "errors": "Please check",
    "err.nothing": "You have not changed anything.",
    "err.recipient": "The name or a phone number is not right.",
    "err.address": "The address is not right: choose a ward of the chosen province, and give the house and street.",
    "err.line": "This item's choice is not right.",
    "err.order": "The order cannot be changed this way.",
    "csrf.title": "Not sent",
    "csrf.body": "This page is out of date or was not opened from your link. Please reload it and try again.",
    "expired.title": "This link has expired",
    "expired.body": "This link can no longer be used. Please ask the shop for a new link.",
    "notfound.title": "This link is not valid",
    "notfound.body": "This link does not open any order. Please check it or contact the shop.",
    "busy.title": "Too many requests",
    "busy.body": "Please wait a moment and try again.",
    "shop": "Shop",
    "lang.other": "Tiếng Việt",
}

CATALOGUE: dict[str, dict[str, str]] = {"vi": VI, "en": EN}


def choose(query: str | None, cookie: str | None) -> str:
    """?lang= first, then the remembered choice, then Vietnamese."""
    for wanted in (query, cookie):
        if wanted in LANGUAGES:
            return str(wanted)
    return DEFAULT


def words(lang: str) -> Mapping[str, str]:
    return CATALOGUE.get(lang, VI)


def vnd(amount: int, lang: str) -> str:
    """450000 -> "450.000 ₫" (vi) or "450,000 VND" (en)."""
    return format_vnd(amount) if lang == "vi" else f"{amount:,} VND"
