"""A refusal in the page's language: the field path named in words, the service's English message in words.

The services speak English to the API's readers (`operations[0].phones[1]: +8412 is not a phone number`); staff read
"Số điện thoại thứ 2: không phải số điện thoại". Field names and message patterns are catalogue strings (N_), so a
translator sees them in messages.po. A message no pattern knows shows as a plain "giá trị chưa hợp lệ" on the named
field rather than as English internals."""

from __future__ import annotations

import re

from orders_service.dashboard.i18n import N_, gettext, known
from orders_service.domain import errors as e

# The last named part of a field path -> words. Parts not listed fall back to their parent's words.
FIELD_WORDS = {
    "phones": N_("Số điện thoại"),
    "phone": N_("Số điện thoại"),
    "recipient": N_("Người nhận"),
    "name": N_("Tên"),
    "full_name": N_("Họ tên"),
    "email": N_("Email"),
    "birthday": N_("Ngày sinh"),
    "address": N_("Địa chỉ"),
    "line": N_("Số nhà, đường"),
    "text": N_("Địa chỉ"),
    "ward_code": N_("Phường/xã"),
    "ward": N_("Phường/xã"),
    "province_code": N_("Tỉnh/thành phố"),
    "province": N_("Tỉnh/thành phố"),
    "lines": N_("Sản phẩm"),
    "sku": N_("Mã hàng"),
    "size": N_("Size"),
    "color": N_("Màu"),
    "quantity": N_("Số lượng"),
    "unit_price": N_("Đơn giá"),
    "paid": N_("Đã trả trước"),
    "fee": N_("Phí giao hàng"),
    "shipping": N_("Phí giao hàng"),
    "payer": N_("Người trả phí giao hàng"),
    "discount": N_("Giảm giá"),
    "percent": N_("Giảm giá (%)"),
    "reason": N_("Lý do"),
    "note": N_("Ghi chú"),
    "q": N_("Ô tìm kiếm"),
    "from": N_("Hồ sơ trùng"),
    "into": N_("Hồ sơ giữ lại"),
    "order_ids": N_("Đơn cần gộp"),
    "parts": N_("Đơn tách ra"),
    "points": N_("Điểm"),
    "tiers": N_("Các hạng thành viên"),
    "manual_floor": N_("Hạng tối thiểu"),
    "points_per_vnd": N_("Tỉ lệ tích điểm"),
    "username": N_("Tên đăng nhập"),
    "password": N_("Mật khẩu"),
    "customer": N_("Khách hàng"),
    "customer_id": N_("Khách hàng"),
    "courier": N_("Hãng vận chuyển"),
    "file": N_("Tệp đối soát"),
    "reference": N_("Mã bảng kê"),
    "cod_collected": N_("Tiền thu hộ"),
    "kept": N_("Số lượng khách giữ"),
    "public_url": N_("Địa chỉ trang web"),
    "version": N_("Phiên bản"),
    "number": N_("Trang"),  # the COD list's page number (its query parameter `page`)
    "versions": N_("Phiên bản"),
    # The dashboard's own form fields (`qty_<line id>` is read as `qty`).
    "qty": N_("Số lượng"),
    "take": N_("Số lượng chuyển sang đơn mới"),
    "variant": N_("Size/màu"),
    "opts": N_("Size/màu gửi thử"),
    "address_text": N_("Địa chỉ"),
    "payment": N_("Khách trả thêm"),
    "confirm": N_("Chữ xác nhận"),
    "gender": N_("Giới tính"),
    "tags": N_("Nhãn"),
    "recipient_from": N_("Giữ người nhận"),
    "address_from": N_("Giữ địa chỉ"),
    "status": N_("Trạng thái"),
    "date_from": N_("Từ ngày"),
    "date_to": N_("Đến ngày"),
    "page": N_("Trang"),
    "per_page": N_("Số đơn mỗi trang"),
    "sync_failed": N_("Lỗi đồng bộ hãng"),
    "vnd_per_point": N_("Số đồng cho 1 điểm"),
    "vnd_per_redeemed_point": N_("1 điểm đổi được"),
    "points_expire_days": N_("Điểm hết hạn sau"),
    "tier_downgrade": N_("Hạ hạng"),
    "tier_review_days": N_("Xét lại hạng sau"),
    "token": N_("Token"),
    "shop_id": N_("Shop ID"),
    "partner_code": N_("Partner code"),
    "webhook_secret": N_("Webhook secret"),
    "quiet_start": N_("Không gửi từ"),
    "quiet_end": N_("Không gửi đến"),
    "marketing_cap_per_day": N_("Tối đa mỗi số mỗi ngày"),
    "ship_rule": N_("Khi nhân viên không chọn"),
    "edit_window_minutes": N_("Chờ khách sửa"),
    "service": N_("Dịch vụ"),
    "choice": N_("Hãng vận chuyển"),
}

ITEM = {"lines": N_("sản phẩm thứ %(n)s"), "parts": N_("đơn tách thứ %(n)s")}
OTHER = N_("Thông tin nhập")
# English messages of the services (a regex on the whole message) -> words; groups fill the placeholders.
MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), words)
    for p, words in [
        (r".*(is not a (valid )?phone number|expected a phone number).*", N_("không phải số điện thoại")),
        (r"couriers in Vietnam call Vietnamese numbers only", N_("chỉ nhận số điện thoại Việt Nam")),
        (r"give between (\d+) and (\d+) phone numbers", N_("cần từ %(1)s đến %(2)s số điện thoại")),
        (r".* is already in the list|.*listed twice.*|an order is listed twice", N_("bị trùng")),
        (r".*already belongs to customer.*", N_("đã thuộc về một khách hàng khác")),
        (r".*(needs a name|give the customer's name|give the product's name).*", N_("cần nhập tên")),
        (r"a birthday cannot be in the future", N_("ngày sinh không thể ở tương lai")),
        (r".*(required|missing).*", N_("chưa nhập")),
        (r".*length >= 1.*|.*must not be empty.*", N_("chưa nhập")),
        (r".*length <= ?(\d+).*", N_("dài quá %(1)s ký tự")),
        (r".*>= ?(-?\d+).*", N_("phải từ %(1)s trở lên")),
        (r".*out of range.*", N_("số quá lớn")),
        (r".*<= ?(-?\d+).*", N_("phải không quá %(1)s")),
        # after the bounds: msgspec says "Expected `int` <= 999" of a whole number too large
        (r"Expected `int.*|must be a whole number", N_("phải là số nguyên")),
        (r"unknown ward.*", N_("không có phường/xã này")),
        (r"ward \d+ \(.*\) is in province \d+ \(.*\), not in province .*", N_("không thuộc tỉnh/thành phố đã chọn")),
        # the typed address (orders_service.geo.resolve); the wards it could be follow after ": "
        (r".* may be any of (\d+) wards since 1 July 2025(?:: (?P<names>.*))?", N_("có thể là %(1)s phường/xã mới")),
        (r"no ward is called .*?(?:: (?P<names>.*))?", N_("không có phường/xã nào tên như vậy")),
        (
            r"no ward found before the district and province(?:: (?P<names>.*))?",
            N_("không thấy phường/xã trong địa chỉ"),
        ),
        (r"no province (is called|found) .*", N_("không thấy tỉnh/thành phố")),
        (r".* may be any of these provinces: (?P<names>.*)", N_("có thể là nhiều tỉnh/thành phố")),
        (r"no district called .*", N_("không thấy quận/huyện")),
        (r"the address is empty", N_("chưa nhập địa chỉ")),
        (r".*is not a tier of this shop.*", N_("không phải một hạng của shop")),
        (r"the customer holds (\d+) points, not (\d+)", N_("khách chỉ có %(1)s điểm, không đủ %(2)s")),
        (r".*are reserved by open orders.*|.*not enough stock.*|.*only \d+ left.*", N_("không đủ hàng trong kho")),
        (r".*: (\d+) wanted, (\d+) available", N_("không đủ hàng: shop chỉ còn %(2)s")),
        (r"the shop does not offer .*|the catalogue has no .*", N_("shop không có phân loại này")),
        (r"no such line in this order", N_("đơn không có dòng hàng này")),
        (r"no (order|customer) .*", N_("không tìm thấy")),
        # why her data cannot be erased yet (orders_service.customers.privacy)
        (r"the parcel is in the courier's hands.*", N_("hàng đang ở chỗ hãng vận chuyển: chờ giao xong hoặc hoàn về")),
        (
            r"the order is still open: cancel it first.*",
            N_("đơn còn mở: hãy huỷ đơn trước, kẻo hàng giao tới địa chỉ đã xoá"),
        ),
        # a courier that could not quote (orders_service.shipping.quotes)
        (r"no answer within ([\d.]+) s", N_("hãng không trả lời trong %(1)s giây")),
        (r"quote failed: .*", N_("hãng báo lỗi khi hỏi giá")),
        # why the system gave up on a job (orders_service.relay.core): the details are in the service's log
        (r"did not finish within ([\d.]+) s", N_("chưa xong sau %(1)s giây")),
        (r"no handler for topic .*", N_("hệ thống không biết làm việc này")),
        (r"[A-Z]\w*(Error|Exception|Timeout): .*", N_("lỗi hệ thống (chi tiết trong nhật ký của dịch vụ)")),
        (r".*Expected .*", N_("giá trị không đúng dạng")),
    ]
]
GENERIC = N_("giá trị chưa hợp lệ")
BY_KIND: list[tuple[type[e.DomainError], str]] = [
    (e.VersionMismatch, N_("Đơn vừa được thay đổi ở nơi khác: hãy tải lại trang rồi làm lại.")),
    (e.NotFound, N_("Không tìm thấy.")),
    (e.PhoneTaken, N_("Số điện thoại này đã thuộc về một khách hàng khác.")),
    (e.IdentityTaken, N_("Thông tin này đã thuộc về một khách hàng khác.")),
    (e.CustomerMerged, N_("Hồ sơ này đã được gộp vào hồ sơ khác.")),
    (e.CustomerErased, N_("Dữ liệu cá nhân của khách đã bị xoá: không sửa được nữa.")),
    (e.ErasureBlocked, N_("Chưa xoá được: khách còn đơn đang mở hoặc đang giao.")),
    (e.OrdersConflict, N_("Không gộp hoặc tách được các đơn này.")),
    (e.InvalidTransition, N_("Trạng thái hiện tại của đơn không cho phép việc này.")),
    (e.OrderNotAmendable, N_("Đơn không thể thay đổi lúc này.")),
    (e.PreconditionRequired, N_("Đơn vừa được thay đổi ở nơi khác: hãy tải lại trang rồi làm lại.")),
]
_PART = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")
_FORM_ID = re.compile(r"_[0-9a-f-]{8,}(?:_\d+)?$")  # a form field's line or order id: `qty_<line id>`


def field_words(path: str) -> str:
    """`operations[0].phones[1]` -> "Số điện thoại thứ 2"; `lines[2].quantity` -> "Số lượng (sản phẩm thứ 3)"."""
    parts = [
        (_FORM_ID.sub("", m.group(1)), [int(i) for i in re.findall(r"\d+", m.group(2))])
        for m in _PART.finditer(path or "")
    ]
    parts = [(name, index) for name, index in parts if name != "operations"]  # the amendment's steps: not a field
    named = [(name, index) for name, index in parts if name in FIELD_WORDS]
    if not named:
        return gettext(OTHER)
    name, index = named[-1]
    words = gettext(FIELD_WORDS[name])
    if index:
        words = gettext("%(field)s thứ %(n)s") % {"field": words, "n": index[-1] + 1}
    for parent, parent_index in reversed(parts[: parts.index((name, index))]):
        if parent in ITEM and parent_index:
            return f"{words} ({gettext(ITEM[parent]) % {'n': parent_index[-1] + 1}})"
    return words


def _status(message: str) -> str | None:
    """ "the order is cancelled: ..." (a refusal because of the order's status) -> its status in words."""
    from orders_service.dashboard.pages import STATUS_LABELS  # pages shows these problems: imported when used

    found = re.match(r"the order is (\w+)\b", message)
    if found is None or found.group(1) not in STATUS_LABELS:
        return None
    status = gettext(STATUS_LABELS[found.group(1)])
    return gettext("Đơn đang ở trạng thái %(status)s: không làm được việc này.") % {"status": status}


def _matched(message: str) -> str | None:
    if known(message):
        return gettext(message)
    for pattern, words in MESSAGES:
        found = pattern.fullmatch(message.strip())
        if found:
            said = gettext(words) % {str(i + 1): g for i, g in enumerate(found.groups()) if g is not None}
            names = found.groupdict().get("names")  # place names, the same in every language
            return f"{said}: {names}" if names else said
    return _status(message)


def message_words(message: str) -> str:
    """The service's message in the page's language: a catalogue string as is, an English one by its pattern."""
    return _matched(message) or gettext(GENERIC)


def detail_words(error: e.DomainError) -> tuple[str | None, str]:
    """(the field in words or None, what is wrong in words) for any refusal of the services."""
    field = getattr(error, "field", None)
    message = getattr(error, "message", None)
    if isinstance(field, str) and isinstance(message, str):
        return field_words(field), message_words(message)
    said = _status(error.detail) or (gettext(error.detail) if known(error.detail) else None)
    if said:
        return None, said
    for kind, words in BY_KIND:
        if isinstance(error, kind):
            return None, gettext(words)
    return None, message_words(error.detail)


def courier_words(message: str | None) -> str:
    """A courier's answer (why it cannot quote): ours in words, the courier's own text as it wrote it."""
    if not message:
        return ""
    return _matched(message) or message
