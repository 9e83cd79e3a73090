"""per-customer stats (completed orders, spend, points, first and last completed order) and favourites, for
segments and the profile

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The same numbers loyalty/stats.py keeps up to date, computed once from the ledger and the orders.
BACKFILL = """
INSERT INTO customer_stats (customer_id, orders, spend, points, first_order_at, last_order_at)
SELECT c.id, coalesce(l.orders, 0), coalesce(l.spend, 0), coalesce(l.points, 0), o.first_order_at, o.last_order_at
FROM customers c
LEFT JOIN (SELECT customer_id, sum(spend) AS spend, sum(orders_delta) AS orders, sum(points) AS points
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
        sa.Column("points", sa.BigInteger(), nullable=False),
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
    op.create_table(
        "customer_favorites",
        sa.Column("customer_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_favorites_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", "kind", "value", name=op.f("pk_customer_favorites")),
    )
    op.execute(BACKFILL)
    _backfill_favorites()


def _backfill_favorites() -> None:
    """What each live customer kept of her completed orders, counted as loyalty/favorites.py counts it."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT o.customer_id, l.sku, l.size, l.color, l.kept, l.quantity FROM order_lines l"
            " JOIN orders o ON o.id = l.order_id JOIN customers c ON c.id = o.customer_id"
            " WHERE o.status IN ('delivered', 'partially_delivered') AND c.merged_into_id IS NULL"
        ).columns(sa.column("customer_id", GUID(length=16)), sa.column("kept", JsonB))
    )
    counts: dict[tuple[object, str, str], int] = {}
    for customer_id, sku, size, color, kept, quantity in rows:
        items = [{"size": size, "color": color, "quantity": quantity}] if kept is None else kept
        for item in items:
            n = int(item.get("quantity") or 0)
            if n <= 0:
                continue
            for kind, value in (("sku", sku), ("size", item.get("size")), ("color", item.get("color"))):
                if value:
                    key = (customer_id, kind, str(value))
                    counts[key] = counts.get(key, 0) + n
    table = sa.table(
        "customer_favorites",
        sa.column("customer_id", GUID(length=16)),
        sa.column("kind"),
        sa.column("value"),
        sa.column("count"),
    )
    values = [{"customer_id": c, "kind": k, "value": v, "count": n} for (c, k, v), n in counts.items()]
    for first in range(0, len(values), 5_000):
        bind.execute(table.insert(), values[first : first + 5_000])


def downgrade() -> None:
    op.drop_table("customer_favorites")
    op.drop_table("customer_stats")
