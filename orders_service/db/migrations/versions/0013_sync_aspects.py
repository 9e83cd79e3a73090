"""what a courier refused, per aspect of the parcel (recipient, address, COD, items), on the shipment

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import JsonB
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # {aspect: {"message": the courier's words, "value": what was refused}}; NULL or {} when nothing is refused.
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("refused", JsonB, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("refused")
