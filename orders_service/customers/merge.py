"""Merge duplicate profiles of one person into one, audited; a dry run says what would move."""

from __future__ import annotations

import datetime

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.customers.schemas import CustomerMergeIn, IdentityOut, MergePreviewOut
from orders_service.db.engine import begin_write
from orders_service.db.models import (
    Customer,
    CustomerIdentity,
    CustomerMerge,
    CustomerPhone,
    CustomerTier,
    PointsEntry,
    TierChange,
)
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import CustomerMerged, InvalidField
from orders_service.domain.model import Actor
from orders_service.loyalty import favorites, stats
from orders_service.loyalty.program import program_of
from orders_service.loyalty.services import reevaluate
from orders_service.loyalty.tiers import evaluate
from orders_service.orders.services import record_note


async def _load(session: AsyncSession, data: CustomerMergeIn, lock: bool) -> tuple[Customer, list[Customer]]:
    """The target and the sources, checked; locked in id order so two merges cannot deadlock."""
    for i, listed in enumerate(data.from_):
        if listed == data.into:
            raise InvalidField(f"from[{i}]", "is the customer merged into; list only the duplicates")
        if listed in data.from_[:i]:
            raise InvalidField(f"from[{i}]", "is listed twice")
    query = select(Customer).where(Customer.id.in_([data.into, *data.from_])).order_by(Customer.id)
    rows = {c.id: c for c in await session.scalars(query.with_for_update() if lock else query)}
    into = rows.get(data.into)
    if into is None:
        raise InvalidField("into", f"no customer {data.into}")
    if into.merged_into_id is not None:
        raise CustomerMerged("into", str(into.id), str(into.merged_into_id))
    sources: list[Customer] = []
    for i, source_id in enumerate(data.from_):
        found = rows.get(source_id)
        if found is None:
            raise InvalidField(f"from[{i}]", f"no customer {source_id}")
        source = found
        if source.merged_into_id is not None:
            raise CustomerMerged(f"from[{i}]", str(source.id), str(source.merged_into_id))
        sources.append(source)
    return into, sources


async def _preview(
    session: AsyncSession, into: Customer, sources: list[Customer], now: datetime.datetime
) -> tuple[MergePreviewOut, str | None]:
    """What moves, and the survivor's tier evaluated on the combined ledger; plus the manual floor she keeps."""
    program = program_of(session)
    ids = [s.id for s in sources]
    everyone = [into.id, *ids]
    orders = await session.scalar(select(func.count()).where(OrderRow.customer_id.in_(ids))) or 0
    moved_entries = await session.scalar(select(func.count()).where(PointsEntry.customer_id.in_(ids))) or 0
    points, spend, delivered = (
        await session.execute(
            select(
                func.coalesce(func.sum(PointsEntry.points), 0),
                func.coalesce(func.sum(PointsEntry.spend), 0),
                func.coalesce(func.sum(PointsEntry.orders_delta), 0),
            ).where(PointsEntry.customer_id.in_(everyone))
        )
    ).one()
    states = {
        s.customer_id: s
        for s in await session.scalars(select(CustomerTier).where(CustomerTier.customer_id.in_(everyone)))
    }
    floors = [s.manual_floor for s in states.values() if s.manual_floor is not None]
    floor = max(floors, key=program.rank) if floors else None
    held = states.get(into.id)
    decision = evaluate(
        program, held.tier if held else None, floor, int(spend), int(delivered), now, held.review_at if held else None
    )
    preview = MergePreviewOut(
        into=into.id,
        from_=ids,
        phones=[p.e164 for s in sources for p in s.phones],
        identities=[IdentityOut(kind=i.kind, value=i.value) for s in sources for i in s.identities],
        orders=int(orders),
        points_entries=int(moved_entries),
        points=int(points),
        spend=max(0, int(spend)),
        delivered_orders=max(0, int(delivered)),
        tier_before=program.tier(held.tier if held else None).code,
        tier_after=decision.tier,
    )
    return preview, floor


async def merge_customers(
    session: AsyncSession, data: CustomerMergeIn, actor: Actor, *, dry_run: bool = False
) -> tuple[Customer, MergePreviewOut]:
    """Move the duplicates' phones, identities, orders, ledger and tier history onto `into`; mark them merged."""
    now = datetime.datetime.now(datetime.UTC)
    if not dry_run:
        await begin_write(session)
    into, sources = await _load(session, data, lock=not dry_run)
    preview, floor = await _preview(session, into, sources, now)
    if dry_run:
        return into, preview
    ids = [s.id for s in sources]
    position = len(into.phones)
    for source in sources:
        for phone in source.phones:
            await session.execute(
                update(CustomerPhone).where(CustomerPhone.id == phone.id).values(customer_id=into.id, position=position)
            )
            position += 1
        into.email = into.email or source.email
        into.birthday = into.birthday or source.birthday
        into.gender = into.gender or source.gender
        into.tags = list(dict.fromkeys([*(into.tags or []), *(source.tags or [])]))
        source.merged_into_id = into.id
    moved = list(await session.scalars(select(OrderRow).where(OrderRow.customer_id.in_(ids)).order_by(OrderRow.id)))
    for model in (CustomerIdentity, OrderRow, PointsEntry, TierChange):
        await session.execute(update(model).where(model.customer_id.in_(ids)).values(customer_id=into.id))
    # Each moved order's timeline says whose it was: the order itself (its version, its courier data) is unchanged.
    for order in moved:
        record_note(session, order, actor, "customer_merged", f"customer {order.customer_id} merged into {into.id}")
        order.customer_id = into.id  # the identity map's copy, as the UPDATE above left the table
    # Her tier is derived from the ledger she now holds; the duplicates' tier rows would only contradict it.
    for state in await session.scalars(select(CustomerTier).where(CustomerTier.customer_id.in_(ids))):
        await session.delete(state)
    await session.flush()
    await stats.recompute(session, [into.id, *ids])
    await favorites.recompute(session, [into.id, *ids])
    state = await reevaluate(session, into.id, now)
    if floor is not None and state.manual_floor != floor:
        state.manual_floor = floor
        state = await reevaluate(session, into.id, now)
    preview.tier_after = state.tier
    session.add(
        CustomerMerge(
            into_id=into.id,
            from_ids=[str(i) for i in ids],
            actor=(actor.id or str(actor.kind))[:64],
            reason=data.reason,
            at=now,
            summary=msgspec.to_builtins(preview),
        )
    )
    await session.flush()
    for customer in (into, *sources):
        await session.refresh(customer, ["phones", "identities"])
    return into, preview
