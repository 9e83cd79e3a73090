"""What the dashboard's pages read beyond the features' own services; the pages themselves run no SQL."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Customer, OrderEvent
from orders_service.db.models import Order as OrderRow


async def customer_names(session: AsyncSession, rows: Iterable[OrderRow]) -> dict[UUID, str]:
    """The customers' names for a page of orders, in one query (not one per order)."""
    ids = {row.customer_id for row in rows}
    if not ids:
        return {}
    found = await session.execute(select(Customer.id, Customer.full_name).where(Customer.id.in_(ids)))
    return dict(found.tuples().all())


async def courier_report(session: AsyncSession, order_id: UUID) -> str | None:
    """Why the courier sent the order back for review: the reason of its latest courier event."""
    return await session.scalar(
        select(OrderEvent.reason)
        .where(OrderEvent.order_id == order_id, OrderEvent.type.like("courier_%"))
        .order_by(OrderEvent.seq.desc())
        .limit(1)
    )


def reread_after_commit(session: AsyncSession, key: str) -> None:
    """This process reads the saved group again at its next transaction, so at once, where other processes take
    up to their sources' TTL. Only after the commit: a transaction starting before it would read the old row,
    and keep it for that long."""
    source = session.info.get(key)
    if source is not None:
        event.listen(session.sync_session, "after_commit", lambda _: source.expire(), once=True)
