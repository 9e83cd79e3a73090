"""outbox messages given up on are dead-lettered: kept with their error until staff retry them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dead_at", DateTimeUTC(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_dead_at", ["dead_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_dead_at")
        batch_op.drop_column("dead_at")
