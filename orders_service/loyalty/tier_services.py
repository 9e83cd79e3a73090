"""Tier use cases besides earning: the manual floor staff set by hand, the history, and the daily review."""

from __future__ import annotations

import datetime
from uuid import UUID

from advanced_alchemy.filters import LimitOffset, OrderBy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.customers.services import get_customer
from orders_service.db.engine import begin_write
from orders_service.db.models import Customer, CustomerTier, TierChange
from orders_service.domain.errors import InvalidField
from orders_service.infra import clock
from orders_service.infra.pagination import Repository
from orders_service.loyalty.program import program_of
from orders_service.loyalty.services import reevaluate


async def set_floor(
    session: AsyncSession, customer_id: UUID, floor: str | None, by: str, now: datetime.datetime | None = None
) -> CustomerTier:
    """Hold her at `floor` or above whatever her spend says (None lifts it); the tier follows at once."""
    now = now or clock.now()
    program = program_of(session)
    if floor is not None and floor not in {t.code for t in program.tiers}:
        known = ", ".join(t.code for t in program.tiers)
        raise InvalidField("manual_floor", f"{floor!r} is not a tier of this shop ({known})")
    await begin_write(session)
    await get_customer(session, customer_id)
    await session.scalar(select(Customer.id).where(Customer.id == customer_id).with_for_update(key_share=True))
    state = await reevaluate(session, customer_id, now)
    if state.manual_floor != floor:
        session.add(
            TierChange(
                customer_id=customer_id,
                from_tier=state.tier,
                to_tier=state.tier,
                reason=f"manual floor {floor or 'lifted'} by {by}",
                at=now,
            )
        )
        state.manual_floor = floor
        # Lifting a floor lets the configured downgrade rule decide again, as if her review were due.
        if floor is None and program.downgrade == "review":
            state.review_at = now
        await session.flush()
        state = await reevaluate(session, customer_id, now)
    return state


class TierChangeRepository(Repository[TierChange]):
    model_type = TierChange


async def history(session: AsyncSession, customer_id: UUID, limit: int, offset: int) -> tuple[list[TierChange], int]:
    """Her tier moves and floor changes, newest first."""
    await get_customer(session, customer_id)
    rows, total = await TierChangeRepository(session=session).get_many_and_count(
        OrderBy("at", "desc"), OrderBy("id", "desc"), LimitOffset(limit, offset), customer_id=customer_id
    )
    return list(rows), total


async def review_tiers(db: async_sessionmaker[AsyncSession], now: datetime.datetime | None = None) -> int:
    """The daily review (downgrade rule `review`): each customer whose review date passed, in her own transaction.

    Returns how many changed tier. Idempotent: a review that changes nothing moves her next review date on.
    """
    now = now or clock.now()
    async with db() as session:
        if program_of(session).downgrade != "review":
            return 0
        due = list(
            await session.scalars(
                select(CustomerTier.customer_id)
                .where(CustomerTier.review_at.is_not(None), CustomerTier.review_at <= now)
                .order_by(CustomerTier.customer_id)
            )
        )
    changed = 0
    for customer_id in due:
        async with db() as session, session.begin():
            await begin_write(session)
            await session.scalar(select(Customer.id).where(Customer.id == customer_id).with_for_update(key_share=True))
            before = await session.scalar(select(CustomerTier.tier).where(CustomerTier.customer_id == customer_id))
            state = await reevaluate(session, customer_id, now)
            changed += state.tier != before
    return changed
