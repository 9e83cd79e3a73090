"""COD statements imported from couriers, and their rows as classified against the orders

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cod_statements",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("courier", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("mismatches", sa.Integer(), nullable=False),
        sa.Column("totals", JsonB, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_statements")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_cod_statements_content_hash")),
        sa.UniqueConstraint("courier", "reference", name="uq_cod_statements_courier_reference"),
    )
    with op.batch_alter_table("cod_statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cod_statements_courier"), ["courier"], unique=False)
        batch_op.create_index(batch_op.f("ix_cod_statements_mismatches"), ["mismatches"], unique=False)
    op.create_table(
        "cod_statement_rows",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("statement_id", GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("courier", sa.String(length=16), nullable=False),
        sa.Column("tracking_code", sa.String(length=64), nullable=False),
        sa.Column("cod_collected", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("order_id", GUID(length=16), nullable=True),
        sa.Column("already_on", GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["cod_statements.id"],
            name=op.f("fk_cod_statement_rows_statement_id_cod_statements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_cod_statement_rows_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["already_on"], ["cod_statements.id"], name=op.f("fk_cod_statement_rows_already_on_cod_statements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_statement_rows")),
    )
    with op.batch_alter_table("cod_statement_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cod_statement_rows_statement_id"), ["statement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cod_statement_rows_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_cod_statement_rows_courier_tracking", ["courier", "tracking_code"], unique=False)


def downgrade() -> None:
    op.drop_table("cod_statement_rows")
    op.drop_table("cod_statements")
