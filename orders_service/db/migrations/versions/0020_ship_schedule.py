"""ship schedules: ship requests held by the edit window (ORDERS_EDIT_WINDOW_MINUTES)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ship_schedules",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("order_id", GUID(length=16), nullable=False),
        sa.Column("ship_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("courier", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ship_schedules_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ship_schedules")),
        sa.UniqueConstraint("order_id", name=op.f("uq_ship_schedules_order_id")),
    )
    with op.batch_alter_table("ship_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ship_schedules_ship_at"), ["ship_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ship_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ship_schedules_ship_at"))
    op.drop_table("ship_schedules")
