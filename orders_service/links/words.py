"""The customer's page's words that code chooses (statuses, notices, a field's label and why it is refused), in
the `public` gettext domain: Vietnamese msgids marked N_() here, translated in locale/<lang>/LC_MESSAGES/public.po.

The tables below map codes to msgids, never to a language: a translator changes public.po, not this file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from orders_service.infra.i18n import N_, NAMES, PUBLIC, gettext


def _(message: str, lang: str) -> str:
    """A text of the customer's page in her language (`lang` is the page's, chosen by infra.i18n.language_of)."""
    return gettext(message, lang, PUBLIC)


def other_language(lang: str) -> str:
    return "en" if lang == "vi" else "vi"


def language_name(lang: str) -> str:
    return NAMES[lang]  # each language named in itself: never translated


STATUS = {
    "pending": N_("Chờ xác nhận"),
    "confirmed": N_("Đã xác nhận"),
    "ready_to_ship": N_("Chờ giao cho đơn vị vận chuyển"),
    "cancelled": N_("Đã huỷ"),
    "in_transit": N_("Đang giao hàng"),
    "needs_review": N_("Đang giao hàng"),  # staff check the parcel; for her it is on its way
    "delivered": N_("Đã giao hàng"),
    "partially_delivered": N_("Đã giao một phần"),
    "returning": N_("Đang hoàn hàng về cửa hàng"),
    "returned": N_("Đã hoàn hàng về cửa hàng"),
    "merged": N_("Đã gộp vào đơn khác"),
}
# Couriers by their own names (the same in every language); only the test courier is described.
COURIERS = {
    "sandbox": N_("Sandbox (thử nghiệm)"),
    "ghn": "Giao Hàng Nhanh (GHN)",
    "ghtk": "Giao Hàng Tiết Kiệm (GHTK)",
    "viettelpost": "Viettel Post",
    "ahamove": "Ahamove",
}
# What the page says at its top after she acted (flow.PageView.notice).
NOTICES = {
    "saved": N_("Đã lưu thay đổi. Cửa hàng và đơn vị vận chuyển sẽ được cập nhật."),
    "changed": N_("Cửa hàng vừa cập nhật đơn hàng này. Đây là đơn hàng mới nhất, vui lòng xem lại rồi thay đổi."),
    "cancelled": N_("Đơn hàng đã được huỷ."),
    "cancel_requested": N_("Đã gửi yêu cầu huỷ. Đơn sẽ được huỷ khi đơn vị vận chuyển xác nhận huỷ vận đơn."),
    "read_only": N_("Không thể thay đổi: đơn hàng đã giao cho đơn vị vận chuyển hoặc đã gộp vào đơn khác."),
    "return_sent": N_("Đã gửi yêu cầu trả hàng. Cửa hàng sẽ xem và trả lời bạn."),
}
# The pages that stand instead of the order: a title and what to do.
MESSAGES = {
    "csrf": (
        N_("Không gửi được"),
        N_("Trang này đã cũ hoặc không được mở từ liên kết của bạn. Vui lòng tải lại trang rồi thử lại."),
    ),
    "expired": (
        N_("Liên kết đã hết hạn"),
        N_("Liên kết này không còn dùng được. Vui lòng liên hệ cửa hàng để nhận liên kết mới."),
    ),
    "notfound": (
        N_("Liên kết không hợp lệ"),
        N_("Liên kết này không mở được đơn hàng nào. Vui lòng kiểm tra lại hoặc liên hệ cửa hàng."),
    ),
    "busy": (N_("Quá nhiều yêu cầu"), N_("Vui lòng đợi một chút rồi thử lại.")),
}
# The amounts' lines (views.amount_rows).
AMOUNTS = {
    "subtotal": N_("Tiền hàng"),
    "discount": N_("Giảm giá"),
    "shipping": N_("Phí giao hàng"),
    "paid": N_("Đã trả trước"),
    "cod": N_("Số tiền trả khi nhận hàng"),
}
# The label an error names its field by (qty-<id> and variant-<id> by their prefix).
FIELD_LABELS = {
    "name": N_("Họ tên"),
    "phone1": N_("Số điện thoại"),
    "phone2": N_("Số điện thoại khác"),
    "phone3": N_("Số điện thoại khác"),
    "province": N_("Tỉnh / thành phố"),
    "ward": N_("Phường / xã"),
    "street": N_("Số nhà, tên đường"),
    "address_text": N_("Địa chỉ"),
    "qty": N_("Số lượng"),
    "variant": N_("Size / màu"),
    "ret": N_("Số lượng trả"),  # ret-<key>: the return form's quantity of one item (orders_service.returns.page)
    "return_reason": N_("Lý do trả hàng"),
}
# Why a value is refused, by the code forms.FormError carries; "order" when nothing more precise is known.
REASONS = {
    "nothing": N_("Bạn chưa thay đổi gì."),
    "order": N_("Đơn hàng không thể thay đổi như vậy."),
    "cancel": N_("Đánh dấu ô “Tôi muốn huỷ đơn hàng này” rồi bấm Huỷ đơn hàng."),
    "name": N_("chưa đúng (tối đa 120 ký tự, trên một dòng)"),
    "name.required": N_("chưa ghi họ tên"),
    "phone.required": N_("cần ít nhất một số"),
    "phone.too_short": N_("thiếu số"),
    "phone.too_long": N_("thừa số"),
    "phone.duplicate": N_("trùng với số đã ghi ở trên"),
    "phone.foreign": N_("không phải số Việt Nam (đơn vị vận chuyển chỉ gọi số Việt Nam)"),
    "phone.invalid": N_("không phải số điện thoại Việt Nam, ví dụ 0912 345 678"),
    "province": N_("chọn tỉnh / thành phố trong danh sách"),
    "ward": N_("chọn phường / xã thuộc tỉnh / thành đã chọn"),
    "street": N_("chưa đúng (tối đa 200 ký tự, trên một dòng)"),
    "street.required": N_("chưa ghi số nhà, tên đường"),
    "address_text": N_("không tìm thấy địa chỉ này: ghi số nhà, tên đường, phường / xã và tỉnh / thành"),
    "address_text.choose": N_("phường / xã này nay thuộc nhiều phường / xã mới, ghi rõ một trong: %(wards)s"),
    "qty": N_("chọn một số trong danh sách"),
    "qty.last_line": N_("đơn hàng cần ít nhất một sản phẩm; muốn bỏ hết, hãy huỷ đơn ở cuối trang"),
    "out_of_stock": N_("cửa hàng không còn đủ hàng cho số lượng này"),
    "variant": N_("chọn size / màu cửa hàng có"),
    "return.qty": N_("chọn một số từ 0 đến %(max)s"),
    "return.too_many": N_("chỉ trả được tối đa %(max)s"),
    "return.none": N_("Chọn số lượng của ít nhất một sản phẩm muốn trả."),
    "return.reason": N_("ghi lý do (tối đa 500 ký tự)"),
    "return.closed": N_("Đã hết thời hạn yêu cầu trả hàng cho đơn này. Vui lòng liên hệ cửa hàng."),
    "return.order": N_("Không gửi được yêu cầu trả hàng như vậy. Vui lòng liên hệ cửa hàng."),
}
# A return request's state as she reads it (orders_service.returns.page).
RETURN_STATES = {
    "requested": N_("Đang chờ cửa hàng duyệt"),
    "approved": N_("Cửa hàng đã đồng ý"),
    "rejected": N_("Cửa hàng từ chối"),
}


UNKNOWN_STATUS = N_("Đang xử lý")  # a status added later, until it has its words here


def status(code: str, lang: str) -> str:
    return _(STATUS.get(code, UNKNOWN_STATUS), lang)


def return_state(code: str, lang: str) -> str:
    return _(RETURN_STATES.get(code, UNKNOWN_STATUS), lang)


def courier(name: str, lang: str) -> str:
    return _(COURIERS[name], lang) if name in COURIERS else name  # a courier added later: by its own name


def notice(code: str, lang: str) -> str:
    return _(NOTICES.get(code, REASONS["order"]), lang)


def message(kind: str, lang: str) -> tuple[str, str]:
    title, body = MESSAGES[kind]
    return _(title, lang), _(body, lang)


def field_error(field: str, code: str, params: Mapping[str, str], lang: str) -> str:
    """ "Số điện thoại khác: thiếu số": the field's label, then why; a reason of the whole form stands alone."""
    reason = _(REASONS.get(code) or REASONS["order"], lang)
    if params:
        # A translation that lost a placeholder keeps its words without it, rather than failing the page.
        with contextlib.suppress(KeyError, TypeError, ValueError):
            reason = reason % dict(params)
    label = FIELD_LABELS.get(field) or FIELD_LABELS.get(field.split("-")[0])
    return f"{_(label, lang)}: {reason}" if label else reason
