"""shipments, courier inbox, courier address map, staff alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op
sa.GUID = GUID  # type: ignore[attr-defined]
sa.DateTimeUTC = DateTimeUTC  # type: ignore[attr-defined]
sa.JsonB = JsonB  # type: ignore[attr-defined]

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('courier_addresses',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('courier', sa.String(length=16), nullable=False),
    sa.Column('ward_code', sa.Integer(), nullable=False),
    sa.Column('ids', sa.JsonB, nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courier_addresses')),
    sa.UniqueConstraint('courier', 'ward_code', name='uq_courier_addresses_courier_ward')
    )
    op.create_table('courier_inbox',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('courier', sa.String(length=16), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('tracking_code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('payload', sa.JsonB, nullable=False),
    sa.Column('received_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courier_inbox')),
    sa.UniqueConstraint('courier', 'event_key', name='uq_courier_inbox_courier_event')
    )
    op.create_table('shipments',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('order_id', sa.GUID(length=16), nullable=False),
    sa.Column('courier', sa.String(length=16), nullable=False),
    sa.Column('client_code', sa.String(length=64), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('raw_status', sa.String(length=64), nullable=True),
    sa.Column('sync_state', sa.String(length=16), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.Column('synced', sa.JsonB, nullable=True),
    sa.Column('cod_amount', sa.BigInteger(), nullable=True),
    sa.Column('fee', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('create_attempted', sa.Boolean(), nullable=False),
    sa.Column('lease_until', sa.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('status_at', sa.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('courier', 'client_code', name='uq_shipments_courier_client_code'),
    sa.UniqueConstraint('order_id', name=op.f('uq_shipments_order_id'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_tracking_code'), ['tracking_code'], unique=False)

    op.create_table('staff_alerts',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.GUID(length=16), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_staff_alerts_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_alerts'))
    )
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_alerts_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    for table in ("staff_alerts", "shipments", "courier_inbox", "courier_addresses"):
        op.drop_table(table)
