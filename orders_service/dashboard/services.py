"""What the dashboard's pages read beyond the features' own services; the pages themselves run no SQL."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Customer, CustomerStats, OrderEvent
from orders_service.db.models import Order as OrderRow


async def customer_names(session: AsyncSession, rows: Iterable[OrderRow]) -> dict[UUID, str]:
    """The customers' names for a page of orders, in one query (not one per order)."""
    ids = {row.customer_id for row in rows}
    if not ids:
        return {}
    found = await session.execute(select(Customer.id, Customer.full_name).where(Customer.id.in_(ids)))
    return dict(found.tuples().all())


async def points_of(session: AsyncSession, customer_id: UUID) -> int:
    """Her points balance as kept with her stats (what an amendment can redeem)."""
    held = await session.scalar(select(CustomerStats.points).where(CustomerStats.customer_id == customer_id))
    return max(0, held or 0)


async def courier_report(session: AsyncSession, order_id: UUID) -> str | None:
    """Why the courier sent the order back for review: the reason of its latest courier event."""
    return await session.scalar(
        select(OrderEvent.reason)
        .where(OrderEvent.order_id == order_id, OrderEvent.type.like("courier_%"))
        .order_by(OrderEvent.seq.desc())
        .limit(1)
    )


async def family_codes(
    session: AsyncSession, order_id: UUID, split_from: UUID | None
) -> dict[str, list[tuple[UUID, str]]]:
    """The orders split off this one (its parts) and the one it was split from, with their codes, for links."""
    parts = await session.execute(
        select(OrderRow.id, OrderRow.code).where(OrderRow.split_from_id == order_id).order_by(OrderRow.created_at)
    )
    origin: list[tuple[UUID, str]] = []
    if split_from is not None:
        found = await session.execute(select(OrderRow.id, OrderRow.code).where(OrderRow.id == split_from))
        origin = [(i, c) for i, c in found.tuples()]
    return {"parts": [(i, c) for i, c in parts.tuples()], "origin": origin}


def reread_after_commit(session: AsyncSession, key: str) -> None:
    """This process reads the saved group again at its next transaction, so at once, where other processes take
    up to their sources' TTL. Only after the commit: a transaction starting before it would read the old row,
    and keep it for that long."""
    source = session.info.get(key)
    if source is not None:
        event.listen(session.sync_session, "after_commit", lambda _: source.expire(), once=True)
