"""Customer CSV layouts: ours, and the customer exports of Sapo and KiotViet and Shopee's order export."""

from __future__ import annotations

from orders_service.imports.formats import Column, Kind, Layout

C = Column

OURS = Layout(
    "ours",
    Kind.CUSTOMERS,
    "customer CSV of orders-service",
    (
        C("name", ("name", "full_name"), required=True),
        C("phones", ("phones", "phone"), required=True, gather=True),
        C("emails", ("emails", "email"), gather=True),
        C("birthday", ("birthday",)),
        C("gender", ("gender",)),
        C("tags", ("tags",)),
        C("source", ("source",)),
    ),
)

# Sapo's "Xuất file" of Khách hàng (Sapo Web writes bilingual headers; Sapo POS Vietnamese ones).
SAPO = Layout(
    "sapo",
    Kind.CUSTOMERS,
    "Sapo customer",
    (
        C("first_name", ("First Name(Tên)", "Tên khách hàng"), required=True),
        C("phones", ("Phone(Liên hệ)", "Phone(Địa chỉ điện thoại)", "Số điện thoại"), required=True, gather=True),
        C("last_name", ("Last Name(Họ)",)),
        C("emails", ("Email",), gather=True),
        C("birthday", ("Ngày sinh",)),
        C("gender", ("Giới tính",)),
        C("tags", ("Tags", "Nhóm khách hàng")),
    ),
)

# KiotViet's "Xuất file" of Khách hàng (DanhSachKhachHang_*.xlsx saved as CSV).
KIOTVIET = Layout(
    "kiotviet",
    Kind.CUSTOMERS,
    "KiotViet customer",
    (
        C("code", ("Mã khách hàng",), required=True),
        C("name", ("Tên khách hàng",), required=True),
        C("phones", ("Điện thoại",), required=True, gather=True),
        C("emails", ("Email",), gather=True),
        C("birthday", ("Ngày sinh",)),
        C("gender", ("Giới tính",)),
        C("tags", ("Nhóm khách hàng",)),
    ),
)

# Shopee has no customer export: its order export (Đơn hàng > Xuất) names the buyer and the recipient, a row
# per order line. The buyer's username becomes her Shopee identity.
SHOPEE = Layout(
    "shopee",
    Kind.CUSTOMERS,
    "Shopee order export",
    (
        C("buyer", ("Người Mua", "Username (Buyer)"), required=True),
        C("name", ("Tên Người nhận", "Receiver Name"), required=True),
        C("phones", ("Số điện thoại", "Phone Number"), required=True, gather=True),
    ),
)

# KiotViet before Sapo: both may have "Tên khách hàng", only KiotViet has "Mã khách hàng" among the required.
LAYOUTS = (OURS, KIOTVIET, SHOPEE, SAPO)
