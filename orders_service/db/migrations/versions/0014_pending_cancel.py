"""a cancel or merge that waits for the courier's confirmation, and GHN's return order for a refused part

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import JsonB
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_cancel", JsonB, nullable=True))
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("return_status", sa.String(length=24), nullable=True))
        batch_op.create_index(batch_op.f("ix_shipments_return_code"), ["return_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_return_code"))
        batch_op.drop_column("return_status")
        batch_op.drop_column("return_code")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("pending_cancel")
