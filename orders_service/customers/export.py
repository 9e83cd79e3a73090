"""Everything held about one customer, as JSON she can be given (Decree 13/2023, the right to her data).

Each table's rows go out whole (every column but our search helpers), so a column added later is exported without
anyone remembering to: the export cannot silently fall behind what we keep.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.customers.models import CustomerAudit
from orders_service.customers.privacy import actor_name, profiles_of
from orders_service.customers.services import get_customer
from orders_service.db.engine import begin_write
from orders_service.db.models import (
    CustomerMerge,
    CustomerTier,
    Notification,
    NotificationConsent,
    OrderEvent,
    OrderLine,
    OrderReturn,
    PointsEntry,
    Shipment,
    TierChange,
)
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Actor
from orders_service.infra import clock

# Internal columns that say nothing about her: search keys, ORM bookkeeping, leases.
HIDDEN = frozenset({"search_name", "sa_orm_sentinel", "lease_until", "locked_until"})


def _row(obj: Any, *skip: str) -> dict[str, Any]:
    return {
        attr.key: getattr(obj, attr.key)
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in HIDDEN and attr.key not in skip
    }


async def _all(session: AsyncSession, model: Any, *where: Any, order: Any = None) -> list[dict[str, Any]]:
    statement = select(model).where(*where)
    if order is not None:
        statement = statement.order_by(order)
    return [_row(r) for r in await session.scalars(statement)]


async def export_customer(session: AsyncSession, customer_id: UUID, actor: Actor) -> dict[str, Any]:
    """Her profiles (with duplicates merged into hers), orders with lines, events and parcels, loyalty, messages."""
    await begin_write(session)  # the export is audited in the same transaction
    customer = await get_customer(session, customer_id)
    profiles = await profiles_of(session, customer)
    ids = [p.id for p in profiles]
    orders = list(
        await session.scalars(select(OrderRow).where(OrderRow.customer_id.in_(ids)).order_by(OrderRow.created_at))
    )
    order_ids = [o.id for o in orders]
    lines = await _grouped(session, OrderLine, order_ids, OrderLine.position)
    events = await _grouped(session, OrderEvent, order_ids, OrderEvent.seq)
    returns = await _grouped(session, OrderReturn, order_ids, OrderReturn.created_at)
    parcels = {s["order_id"]: s for s in await _all(session, Shipment, Shipment.order_id.in_(order_ids))}
    mine: ColumnElement[bool] = Notification.customer_id.in_(ids)
    if order_ids:
        mine = or_(mine, Notification.order_id.in_(order_ids))
    messages = await _all(session, Notification, mine, order=Notification.created_at)
    document: dict[str, Any] = {
        "exported_at": clock.now(),
        "customer": {
            **_row(customer),
            "phones": [p.e164 for p in customer.phones],
            "identities": [{"kind": i.kind, "value": i.value} for i in customer.identities],
        },
        "merged_profiles": [
            {
                **_row(p),
                "phones": [x.e164 for x in p.phones],
                "identities": [{"kind": i.kind, "value": i.value} for i in p.identities],
            }
            for p in profiles[1:]
        ],
        "consents": await _all(session, NotificationConsent, NotificationConsent.customer_id.in_(ids)),
        "orders": [
            {
                **_row(o),
                "lines": lines.get(o.id, []),
                "events": events.get(o.id, []),
                "returns": returns.get(o.id, []),
                "shipment": parcels.get(o.id),
            }
            for o in orders
        ],
        "points_ledger": await _all(
            session, PointsEntry, PointsEntry.customer_id.in_(ids), order=PointsEntry.created_at
        ),
        "tier": next(iter(await _all(session, CustomerTier, CustomerTier.customer_id == customer.id)), None),
        "tier_history": await _all(session, TierChange, TierChange.customer_id.in_(ids), order=TierChange.at),
        "messages": messages,
        "merges": await _all(session, CustomerMerge, CustomerMerge.into_id.in_(ids), order=CustomerMerge.at),
        "audit": await _all(session, CustomerAudit, CustomerAudit.customer_id == customer.id, order=CustomerAudit.at),
    }
    session.add(
        CustomerAudit(
            customer_id=customer.id,
            action="export",
            actor=actor_name(actor),
            detail={"orders": len(orders), "messages": len(messages)},
        )
    )
    await session.flush()
    return document


async def _grouped(
    session: AsyncSession, model: Any, order_ids: list[UUID], order: Any
) -> dict[UUID, list[dict[str, Any]]]:
    grouped: dict[UUID, list[dict[str, Any]]] = {}
    if not order_ids:
        return grouped
    for row in await session.scalars(select(model).where(model.order_id.in_(order_ids)).order_by(order)):
        grouped.setdefault(row.order_id, []).append(_row(row, "order_id"))
    return grouped
