"""the catalogue: products, variants with stock on hand and reserved, each order's reservations, sales and
parcel measure

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("search_name", sa.String(length=300), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("length_cm", sa.Integer(), nullable=True),
        sa.Column("width_cm", sa.Integer(), nullable=True),
        sa.Column("height_cm", sa.Integer(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_search_name"), ["search_name"], unique=False)
    op.create_table(
        "product_variants",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("product_id", GUID(length=16), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=False),
        sa.Column("color", sa.String(length=32), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= stock", name=op.f("ck_product_variants_stock_covers_reserved")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_variants_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("product_id", "size", "color", name="uq_product_variants_product_size_color"),
    )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_variants_product_id"), ["product_id"], unique=False)
    for table in ("stock_reservations", "stock_sales"):
        columns = (
            [sa.Column("quantity", sa.Integer(), nullable=False)]
            if table == "stock_reservations"
            else [sa.Column("sold", sa.Integer(), nullable=False), sa.Column("restocked", sa.Integer(), nullable=False)]
        )
        op.create_table(
            table,
            sa.Column("order_id", GUID(length=16), nullable=False),
            sa.Column("variant_id", GUID(length=16), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["order_id"], ["orders.id"], name=op.f(f"fk_{table}_order_id_orders"), ondelete="CASCADE"
            ),
            sa.ForeignKeyConstraint(
                ["variant_id"],
                ["product_variants.id"],
                name=op.f(f"fk_{table}_variant_id_product_variants"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("order_id", "variant_id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_variant_id"), ["variant_id"], unique=False)
    op.create_table(
        "order_parcels",
        sa.Column("order_id", GUID(length=16), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("length_cm", sa.Integer(), nullable=True),
        sa.Column("width_cm", sa.Integer(), nullable=True),
        sa.Column("height_cm", sa.Integer(), nullable=True),
        sa.Column("lines", JsonB, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_parcels_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_parcels")),
    )


def downgrade() -> None:
    op.drop_table("order_parcels")
    op.drop_table("stock_sales")
    op.drop_table("stock_reservations")
    op.drop_table("product_variants")
    op.drop_table("products")
