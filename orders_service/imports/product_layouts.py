"""Product CSV layouts: ours (one row per variant, the fields of POST /api/products), Sapo, KiotViet, Shopee."""

from __future__ import annotations

from orders_service.imports.formats import Column, Kind, Layout

C = Column

OURS = Layout(
    "ours",
    Kind.PRODUCTS,
    "product CSV of orders-service",
    (
        C("sku", ("sku",), required=True),
        C("name", ("name",), required=True),
        C("weight_g", ("weight_g",), required=True),
        C("price", ("price",), required=True),
        C("stock", ("stock",), required=True),
        C("size", ("size",)),
        C("color", ("color", "colour")),
        C("length_cm", ("length_cm",)),
        C("width_cm", ("width_cm",)),
        C("height_cm", ("height_cm",)),
        C("variant_weight_g", ("variant_weight_g",)),
    ),
)

# Sapo's product export and import template (Sapo Web and Sapo POS name a few columns differently).
SAPO = Layout(
    "sapo",
    Kind.PRODUCTS,
    "Sapo product",
    (
        C("name", ("Tên sản phẩm",), required=True),
        C("sku", ("Mã SKU", "Mã (SKU)"), required=True),
        C("price", ("Giá bán lẻ", "Giá", "Giá bán"), required=True),
        C("weight", ("Khối lượng",), required=True),
        C(
            "stock",
            ("Tồn kho", "Số lượng tồn kho", "Tồn kho ban đầu", "LC_CN1_Tồn kho ban đầu", "Số lượng"),
            required=True,
        ),
        C("weight_unit", ("Đơn vị khối lượng",)),
        C("product_id", ("Id sản phẩm",)),
        C("alias", ("Đường dẫn/Alias", "Đường dẫn / Alias")),
        C("option1_name", ("Thuộc tính 1", "Thuộc tính 1(Option1 Name)")),
        C("option1_value", ("Giá trị thuộc tính 1", "Giá trị thuộc tính 1(Option1 Value)")),
        C("option2_name", ("Thuộc tính 2", "Thuộc tính 2(Option2 Name)")),
        C("option2_value", ("Giá trị thuộc tính 2", "Giá trị thuộc tính 2(Option2 Value)")),
        C("option3_name", ("Thuộc tính 3", "Thuộc tính 3(Option3 Name)")),
        C("option3_value", ("Giá trị thuộc tính 3", "Giá trị thuộc tính 3(Option3 Value)")),
    ),
)

# KiotViet's "Xuất file" of Hàng hóa (DanhSachSanPham_*.xlsx saved as CSV), the same columns as its import template.
KIOTVIET = Layout(
    "kiotviet",
    Kind.PRODUCTS,
    "KiotViet product",
    (
        C("sku", ("Mã hàng",), required=True),
        C("name", ("Tên hàng", "Tên hàng hóa"), required=True),
        C("price", ("Giá bán",), required=True),
        C("stock", ("Tồn kho",), required=True),
        C("weight", ("Trọng lượng",), required=True),
        C("attributes", ("Thuộc tính",)),
        C("related", ("Mã HH Liên quan",)),
        C("base_unit", ("Mã ĐVT Cơ bản",)),
    ),
)

# Shopee Seller Centre's "Cập nhật hàng loạt" download: the sales_info sheet (technical keys on the first row, the
# labels a few rows below) with the weight column of the shipping_info sheet beside it.
SHOPEE = Layout(
    "shopee",
    Kind.PRODUCTS,
    "Shopee product",
    (
        C("product_id", ("et_title_product_id", "Mã Sản phẩm", "Product ID"), required=True),
        C("name", ("et_title_product_name", "Tên Sản phẩm", "Product Name"), required=True),
        C("price", ("et_title_variation_price", "Giá", "Price"), required=True),
        C("stock", ("et_title_variation_stock", "Số lượng", "Kho hàng", "Stock"), required=True),
        C("weight", ("et_title_product_weight", "Cân nặng", "Weight"), required=True),
        C("variation", ("et_title_variation_name", "Tên phân loại", "Variation Name")),
        C("parent_sku", ("et_title_parent_sku", "SKU Sản phẩm", "Parent SKU")),
        C("variation_sku", ("et_title_variation_sku", "SKU phân loại", "SKU")),
    ),
)

# Tried in this order; ours first, so that a file with our columns and a few others is ours.
LAYOUTS = (OURS, SHOPEE, KIOTVIET, SAPO)
