"""returns to restock, and the COD a courier says it collected

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cod_collected", sa.BigInteger(), nullable=True))
    op.create_table(
        "order_returns",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("order_id", GUID(length=16), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("color", sa.String(length=32), nullable=True),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_returns_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_returns")),
    )
    with op.batch_alter_table("order_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_returns_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_returns_order_id"))
    op.drop_table("order_returns")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_column("cod_collected")
