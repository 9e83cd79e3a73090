"""The page's words, Vietnamese first, English on ?lang=en (remembered by a cookie); and VND amounts."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import phonenumbers

from notifications.money import format_vnd

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "lang"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7 all year: the page's times are the customer's, never UTC
# The label an error names its field by (qty-<id> and variant-<id> by their prefix).
FIELD_LABELS = {
    "name": "name",
    "phone1": "phone",
    "phone2": "phone.other",
    "phone3": "phone.other",
    "province": "province",
    "ward": "ward",
    "street": "street",
    "address_text": "address_text.short",
    "qty": "quantity",
    "variant": "variant",
}

VI: dict[str, str] = {
    "title": "Đơn hàng của bạn",
    "order": "Đơn hàng",
    "status": "Trạng thái",
    "status.pending": "Chờ xác nhận",
    "status.confirmed": "Đã xác nhận",
    "status.ready_to_ship": "Chờ giao cho đơn vị vận chuyển",
    "status.cancelled": "Đã huỷ",
    "status.in_transit": "Đang giao hàng",
    "status.needs_review": "Đang giao hàng",
    "status.delivered": "Đã giao hàng",
    "status.partially_delivered": "Đã giao một phần",
    "status.returning": "Đang hoàn hàng về cửa hàng",
    "status.returned": "Đã hoàn hàng về cửa hàng",
    "status.merged": "Đã gộp vào đơn khác",
    "readonly.note": "Đơn hàng đã giao cho đơn vị vận chuyển nên không thay đổi được qua liên kết này. "
    "Cần thay đổi, vui lòng liên hệ cửa hàng.",
    "readonly.merged": "Đơn hàng này đã được gộp vào đơn {code}. Bạn sẽ nhận hàng và thanh toán theo đơn {code}.",
    "readonly.merged_unknown": "Đơn hàng này đã được gộp vào một đơn khác. Vui lòng liên hệ cửa hàng.",
    "readonly.ask": "Cần xem hoặc thay đổi đơn {code}, vui lòng liên hệ cửa hàng để nhận liên kết mới.",
    "read_only": "Không thể thay đổi: đơn hàng đã giao cho đơn vị vận chuyển hoặc đã gộp vào đơn khác.",
    "merged_into": "Đơn hàng mới",
    "courier": "Đơn vị vận chuyển",
    "tracking": "Mã vận đơn",
    "total": "Tổng cộng",
    "contact": "Liên hệ cửa hàng",
    "contact.phone": "Điện thoại",
    "contact.address": "Địa chỉ",
    "courier.sandbox": "Sandbox (thử nghiệm)",
    "courier.ghn": "Giao Hàng Nhanh (GHN)",
    "courier.ghtk": "Giao Hàng Tiết Kiệm (GHTK)",
    "courier.viettelpost": "Viettel Post",
    "courier.ahamove": "Ahamove",
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
    "address_text": "Hoặc gõ cả địa chỉ, kiểu cũ hay mới",
    "address_text.hint": "Ví dụ: 12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM. Bấm Xem trước để thấy phường / xã mới.",
    "new_address": "Địa chỉ mới",
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
    "err.order": "Đơn hàng không thể thay đổi như vậy.",
    "err.cancel": "Đánh dấu ô “Tôi muốn huỷ đơn hàng này” rồi bấm Huỷ đơn hàng.",
    "err.name": "chưa đúng (tối đa 120 ký tự, trên một dòng)",
    "err.name.required": "chưa ghi họ tên",
    "err.phone.required": "cần ít nhất một số",
    "err.phone.too_short": "thiếu số",
    "err.phone.too_long": "thừa số",
    "err.phone.duplicate": "trùng với số đã ghi ở trên",
    "err.phone.foreign": "không phải số Việt Nam (đơn vị vận chuyển chỉ gọi số Việt Nam)",
    "err.phone.invalid": "không phải số điện thoại Việt Nam, ví dụ 0912 345 678",
    "err.province": "chọn tỉnh / thành phố trong danh sách",
    "err.ward": "chọn phường / xã thuộc tỉnh / thành đã chọn",
    "err.street": "chưa đúng (tối đa 200 ký tự, trên một dòng)",
    "err.street.required": "chưa ghi số nhà, tên đường",
    "err.address_text": "không tìm thấy địa chỉ này: ghi số nhà, tên đường, phường / xã và tỉnh / thành",
    "err.address_text.choose": "phường / xã này nay thuộc nhiều phường / xã mới, ghi rõ một trong: {wards}",
    "err.qty": "chọn một số trong danh sách",
    "err.qty.last_line": "đơn hàng cần ít nhất một sản phẩm; muốn bỏ hết, hãy huỷ đơn ở cuối trang",
    "err.out_of_stock": "cửa hàng không còn đủ hàng cho số lượng này",
    "err.variant": "chọn size / màu cửa hàng có",
    "phone.other": "Số điện thoại khác",
    "address_text.short": "Địa chỉ",
    "amounts.now": "Hiện tại",
    "amounts.new": "Sau thay đổi",
    "times.zone": "giờ Việt Nam",
    "updated": "Cập nhật lúc",
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
    "status.in_transit": "On its way",
    "status.needs_review": "On its way",
    "status.delivered": "Delivered",
    "status.partially_delivered": "Partly delivered",
    "status.returning": "Coming back to the shop",
    "status.returned": "Returned to the shop",
    "status.merged": "Merged into another order",
    "readonly.note": "The parcel is with the courier, so this link can no longer change the order. "
    "To change it, please contact the shop.",
    "readonly.merged": "This order was merged into order {code}. You receive and pay for order {code}.",
    "readonly.merged_unknown": "This order was merged into another order. Please contact the shop.",
    "readonly.ask": "To see or change order {code}, please ask the shop for a new link.",
    "read_only": "Not changed: the parcel is with the courier, or the order was merged into another one.",
    "merged_into": "The new order",
    "courier": "Courier",
    "tracking": "Tracking code",
    "total": "Total",
    "contact": "Contact the shop",
    "contact.phone": "Phone",
    "contact.address": "Address",
    "courier.sandbox": "Sandbox (test)",
    "courier.ghn": "Giao Hàng Nhanh (GHN)",
    "courier.ghtk": "Giao Hàng Tiết Kiệm (GHTK)",
    "courier.viettelpost": "Viettel Post",
    "courier.ahamove": "Ahamove",
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
    "address_text": "Or type the whole address, old or new style",
    "address_text.hint": "E.g. 12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM. Preview shows the 2025 ward it becomes.",
    "new_address": "New address",
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
    "err.order": "The order cannot be changed this way.",
    "err.cancel": "Tick “I want to cancel this order”, then press Cancel the order.",
    "err.name": "not right (up to 120 characters, on one line)",
    "err.name.required": "give a name",
    "err.phone.required": "give at least one number",
    "err.phone.too_short": "some digits are missing",
    "err.phone.too_long": "too many digits",
    "err.phone.duplicate": "the same number as one above",
    "err.phone.foreign": "not a Vietnamese number (couriers call Vietnamese numbers only)",
    "err.phone.invalid": "not a Vietnamese phone number, e.g. 0912 345 678",
    "err.province": "choose a province or city from the list",
    "err.ward": "choose a ward of the chosen province",
    "err.street": "not right (up to 200 characters, on one line)",
    "err.street.required": "give the house number and street",
    "err.address_text": "this address was not found: give the house, street, ward and province",
    "err.address_text.choose": "this ward is now part of several 2025 wards, name one of: {wards}",
    "err.qty": "choose a number from the list",
    "err.qty.last_line": "an order keeps at least one item; to drop them all, cancel the order below",
    "err.out_of_stock": "the shop does not have that many left",
    "err.variant": "choose a size and colour the shop offers",
    "phone.other": "Another phone",
    "address_text.short": "Address",
    "amounts.now": "Now",
    "amounts.new": "After the change",
    "times.zone": "Vietnam time",
    "updated": "Updated",
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


def phone(e164: str) -> str:
    """+84912345678 -> "0912 345 678", +842838221234 -> "028 3822 1234": as people write them."""
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def local_time(moment: datetime.datetime) -> str:
    """A moment as Vietnamese write it, in Vietnam time: "21:30 06/12/2026"."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)  # SQLite gives naive UTC
    return aware.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def field_error(field: str, code: str, params: Mapping[str, str], lang: str) -> str:
    """ "Số điện thoại khác: thiếu số": the field's label, then why; a reason of the whole form stands alone."""
    table = words(lang)
    reason = table.get(f"err.{code}") or table["err.order"]
    for name, value in params.items():
        reason = reason.replace("{" + name + "}", value)
    label = FIELD_LABELS.get(field) or FIELD_LABELS.get(field.split("-")[0])
    return f"{table[label]}: {reason}" if label else reason
