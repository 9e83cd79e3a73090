"""per-customer stats (completed orders, spend, first and last completed order) for segments and the profile

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The same numbers loyalty/stats.py keeps up to date, computed once from the ledger and the orders.
BACKFILL = """
INSERT INTO customer_stats (customer_id, orders, spend, first_order_at, last_order_at)
SELECT c.id, coalesce(l.orders, 0), coalesce(l.spend, 0), o.first_order_at, o.last_order_at
FROM customers c
LEFT JOIN (SELECT customer_id, sum(spend) AS spend, sum(orders_delta) AS orders
           FROM points_ledger GROUP BY customer_id) l ON l.customer_id = c.id
LEFT JOIN (SELECT customer_id, min(created_at) AS first_order_at, max(created_at) AS last_order_at FROM orders
           WHERE status IN ('delivered', 'partially_delivered') GROUP BY customer_id) o ON o.customer_id = c.id
WHERE c.merged_into_id IS NULL AND (l.customer_id IS NOT NULL OR o.customer_id IS NOT NULL)
"""


def upgrade() -> None:
    op.create_table(
        "customer_stats",
        sa.Column("customer_id", GUID(length=16), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("spend", sa.BigInteger(), nullable=False),
        sa.Column("first_order_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_order_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_stats_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_stats")),
    )
    with op.batch_alter_table("customer_stats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_stats_orders"), ["orders"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_stats_spend"), ["spend"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_stats_last_order_at"), ["last_order_at"], unique=False)
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("customer_stats")
