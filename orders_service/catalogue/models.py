"""Tables: products, their variants with stock on hand and reserved, each order's reservations and sales.

A variant's `reserved` is the sum of its `stock_reservations` rows; both change in the same statement group of
one transaction (catalogue/stock.py), and the CHECK keeps `0 <= reserved <= stock` whatever a caller does.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import JsonB
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship


class Product(UUIDv7AuditBase):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-case, accents folded: "dam" finds "Đầm hoa".
    search_name: Mapped[str] = mapped_column(String(300), index=True)
    weight_g: Mapped[int] = mapped_column(Integer)
    length_cm: Mapped[int | None] = mapped_column(Integer, default=None)
    width_cm: Mapped[int | None] = mapped_column(Integer, default=None)
    height_cm: Mapped[int | None] = mapped_column(Integer, default=None)
    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product",
        order_by="ProductVariant.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class ProductVariant(UUIDv7Base):
    """One size/colour of a product. No size (or colour) is stored as "" so that the pair is unique in SQL."""

    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("product_id", "size", "color", name="uq_product_variants_product_size_color"),
        CheckConstraint("reserved >= 0 AND reserved <= stock", name="stock_covers_reserved"),
    )

    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    size: Mapped[str] = mapped_column(String(32), default="")
    color: Mapped[str] = mapped_column(String(32), default="")
    price: Mapped[int] = mapped_column(BigInteger)
    weight_g: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the product's
    stock: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    position: Mapped[int] = mapped_column(Integer, default=0)
    product: Mapped[Product] = relationship(back_populates="variants")


class StockReservation(DefaultBase):
    """How many of a variant an order holds while it is open or its parcel is out."""

    __tablename__ = "stock_reservations"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[UUID] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)


class StockSale(DefaultBase):
    """What a delivery took out of stock for an order, and how much of it a return put back."""

    __tablename__ = "stock_sales"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[UUID] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sold: Mapped[int] = mapped_column(Integer)
    restocked: Mapped[int] = mapped_column(Integer, default=0)


class OrderParcel(DefaultBase):
    """What an order's parcel weighs and measures, from its lines and the catalogue, kept whenever lines change.

    `lines` maps a line id to `{"weight_g": g | None, "options": [g | None, ...]}`: the weight of what the line
    sends (None: not in the catalogue) and each try-on option's. Read with the order (one LEFT JOIN).
    """

    __tablename__ = "order_parcels"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    weight_g: Mapped[int] = mapped_column(Integer)
    length_cm: Mapped[int | None] = mapped_column(Integer, default=None)
    width_cm: Mapped[int | None] = mapped_column(Integer, default=None)
    height_cm: Mapped[int | None] = mapped_column(Integer, default=None)
    lines: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
