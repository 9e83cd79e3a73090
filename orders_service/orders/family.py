"""Merge and split use cases: several orders change in one transaction, each with its own event.

Every order touched gets a new version and an event (so its courier is brought up to date through the
outbox: a merged source's courier order is cancelled, the survivor's updated). Orders are locked in id
order, so two merges over the same orders wait for each other instead of deadlocking.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from couriers.base import CourierError
from orders_service.catalogue import stock
from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.domain import merge as m
from orders_service.domain import split as sp
from orders_service.domain.amend import validate_address
from orders_service.domain.errors import InvalidField, OrderNotAmendable, OrdersConflict
from orders_service.domain.model import Actor, Order, Payer, Recipient, Shipping, replace
from orders_service.domain.phones import normalise_phones
from orders_service.infra.settings import Settings
from orders_service.loyalty import points
from orders_service.messaging import triggers
from orders_service.orders import mapping, pending
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.family_schemas import MergeIn, SplitIn, SplitPartIn
from orders_service.orders.outside import OUTSIDE
from orders_service.orders.services import check_precondition, get_order, new_code, record_change
from orders_service.shipping.plan import desired_parcel
from orders_service.shipping.registry import CourierNotConfigured, CourierRegistry

log = logging.getLogger(__name__)


def _with_reason(what: str, reason: str | None) -> str:
    return f"{what}: {reason}" if reason else what


# --- merge ------------------------------------------------------------------------------------------------


async def _load(session: AsyncSession, ids: Sequence[UUID], lock: bool) -> dict[UUID, OrderRow]:
    rows: dict[UUID, OrderRow] = {}
    for order_id in sorted(ids):
        query = select(OrderRow).where(OrderRow.id == order_id)
        row = await session.scalar(query.with_for_update(key_share=True) if lock else query)
        if row is None:
            raise InvalidField(f"order_ids[{list(ids).index(order_id)}]", f"no order {order_id}")
        rows[order_id] = row
    return rows


def _chosen(data: MergeIn, field: str, value: UUID | None, default: UUID) -> UUID:
    if value is None:
        return default
    if value not in data.order_ids:
        raise InvalidField(field, "must be one of order_ids")
    return value


def _default_into(rows: dict[UUID, OrderRow], ids: Sequence[UUID]) -> UUID:
    """The order that already has a courier order (one parcel fewer to cancel), else the oldest."""
    shipped = [i for i in ids if rows[i].shipment is not None]
    if len(shipped) == 1:
        return shipped[0]
    return min(ids, key=lambda i: (rows[i].created_at, str(i)))


def _conflicts(data: MergeIn, rows: dict[UUID, OrderRow], into: OrderRow) -> list[tuple[str, str]]:
    found = []
    seen = data.versions or {}
    for order_id in data.order_ids:
        row = rows[order_id]
        reason = m.why_not_mergeable(mapping.to_domain(row).status)
        if reason is None and row.pending_cancel is not None:
            reason = pending.waiting_reason(row)
        if reason is None and row.customer_id != into.customer_id:
            reason = f"it belongs to another customer than {into.code}"
        if reason is None and str(order_id) in seen and seen[str(order_id)] != row.version:
            reason = f"it changed since you looked: version {row.version}, you saw {seen[str(order_id)]}"
        if reason is not None:
            found.append((str(order_id), f"{row.code}: {reason}"))
    return found


async def _tier_now(session: AsyncSession, discounts: DiscountPolicy, into: OrderRow) -> tuple[int, str | None]:
    return await discounts.for_customer(session, into.customer_id)


async def merge_orders(
    session: AsyncSession, data: MergeIn, actor: Actor, discounts: DiscountPolicy, *, dry_run: bool = False
) -> tuple[OrderRow, Order | None]:
    """Merge into one order; a dry run returns the survivor as it would be and writes nothing.

    Like an amendment before pickup, the survivor takes the customer's tier now (`discounts`); she is told when
    the one parcel asks another amount than the separate ones did.
    """
    if len(set(data.order_ids)) != len(data.order_ids):
        raise InvalidField("order_ids", "an order is listed twice")
    if data.versions is not None:
        for key in data.versions:
            if key not in {str(i) for i in data.order_ids}:
                raise InvalidField(f"versions.{key[:40]}", "not one of order_ids")
    if not dry_run:
        await begin_write(session)
    rows = await _load(session, data.order_ids, lock=not dry_run)
    into_id = _chosen(data, "into", data.into, _default_into(rows, data.order_ids))
    into = rows[into_id]
    conflicts = _conflicts(data, rows, into)
    if conflicts:
        raise OrdersConflict(conflicts)
    people_id = _chosen(data, "recipient_from", data.recipient_from, into_id)
    place_id = _chosen(data, "address_from", data.address_from, into_id)
    source_ids = [i for i in data.order_ids if i != into_id]
    # A source whose courier holds a live parcel joins only once the courier confirmed its cancellation.
    waiting = [] if dry_run else [i for i in source_ids if pending.has_live_parcel(rows[i])]
    if waiting:
        _wait_for_couriers(session, data, rows, into, waiting, actor, people_id, place_id)
        source_ids = [i for i in source_ids if i not in waiting]
        people_id = into_id if people_id in waiting else people_id
        place_id = into_id if place_id in waiting else place_id
        if not source_ids:
            await session.flush()
            return into, None
    people, place = rows[people_id], rows[place_id]
    before = mapping.to_domain(into)
    recipient = Recipient(
        name=people.recipient_name,
        phones=tuple(people.recipient_phones),
        address=mapping.to_domain(place).recipient.address,
    )
    sources_before = [mapping.to_domain(rows[i]) for i in source_ids]
    percent, why = await _tier_now(session, discounts, into)
    survivor, merged = m.merge(
        before,
        sources_before,
        recipient,
        mapping.new_line_id,
        shipping=row_shipping(place),
        discount_percent=percent,
        discount_reason=why,
    )
    if dry_run:
        return into, survivor
    codes = ", ".join(rows[i].code for i in source_ids)
    note = _with_reason(f"merged {codes} into this order", data.reason)
    mapping.write(into, survivor)
    into.version += 1
    record_change(session, into, actor, "merged_in", before, survivor, reason=note)
    for order_id, old, new in zip(source_ids, sources_before, merged, strict=True):
        row = rows[order_id]
        mapping.write(row, new)
        row.version += 1
        row.merged_into_id = into.id
        record_change(
            session, row, actor, "merged", old, new, reason=_with_reason(f"merged into {into.code}", data.reason)
        )
        await points.move_redeemed(session, row, into, datetime.datetime.now(datetime.UTC))
    # The sources' reservations become the survivor's (given back before taken: nothing counts twice).
    await stock.move(session, [(into, survivor), *((rows[i], None) for i in source_ids)])
    await triggers.orders_merged(session, into, [rows[i].code for i in source_ids], [before, *sources_before], survivor)
    await session.flush()
    await session.refresh(into, ["shipment"])
    return into, None


def _wait_for_couriers(
    session: AsyncSession,
    data: MergeIn,
    rows: dict[UUID, OrderRow],
    into: OrderRow,
    waiting: list[UUID],
    actor: Actor,
    people_id: UUID,
    place_id: UUID,
) -> None:
    """Mark each source with a live parcel: the relay cancels it, and it is merged when the courier confirms."""
    now = datetime.datetime.now(datetime.UTC)
    for order_id in waiting:
        row = rows[order_id]
        courier = row.shipment.courier.upper() if row.shipment is not None else row.courier.upper()
        pending.mark(
            row,
            actor,
            data.reason,
            pending.Purpose.MERGE,
            now,
            into=into.id,
            recipient=people_id == order_id,
            address=place_id == order_id,
        )
        row.version += 1
        order = mapping.to_domain(row)
        note = _with_reason(f"to be merged into {into.code} once {courier} confirms the cancellation", data.reason)
        record_change(session, row, actor, "merge_requested", order, order, reason=note)


async def pending_sources(session: AsyncSession, ids: Sequence[UUID]) -> list[UUID]:
    """Of a merge's orders, those that wait for their courier (the merge loaded them: no query)."""
    found = []
    for order_id in ids:
        row = await session.get(OrderRow, order_id)
        if row is not None and row.pending_cancel is not None:
            found.append(order_id)
    return found


# --- split ------------------------------------------------------------------------------------------------


def _recipient(part: SplitPartIn, index: int) -> Recipient | None:
    if part.recipient is None:
        return None
    field = f"parts[{index}].recipient"
    name = part.recipient.name.strip()
    if not name:
        raise InvalidField(f"{field}.name", "the recipient needs a name")
    phones = normalise_phones(part.recipient.phones, f"{field}.phones", vietnam_only=True)
    address = validate_address(part.recipient.address, f"{field}.address", OUTSIDE.units_problem)
    return Recipient(name=name, phones=tuple(phones), address=address)


async def _quoted(couriers: CourierRegistry, settings: Settings, order: Order) -> int | None:
    """The courier's fee for this parcel, or None when it cannot say (the caller falls back)."""
    try:
        courier = couriers.get(order.courier)
        quote = await courier.quote(settings.warehouse_province, desired_parcel(order, "QUOTE", 1))
    except (CourierError, CourierNotConfigured) as error:
        log.info("no fee quote for a split part: %s", error)
        return None
    return quote.fee


async def _fees(
    data: SplitIn, original: Order, parts: list[Order], couriers: CourierRegistry, settings: Settings
) -> list[Shipping]:
    """Each part's shipping: as given, else by the shop's policy (ORDERS_SPLIT_FEE)."""
    chosen = []
    for given, part in zip(data.parts, parts, strict=True):
        if given.shipping is not None:
            chosen.append(Shipping(fee=given.shipping.fee, payer=given.shipping.payer))
        elif settings.split_fee == "shop":
            chosen.append(Shipping(fee=original.shipping.fee, payer=Payer.SHOP))
        elif settings.split_fee == "quote":
            fee = await _quoted(couriers, settings, part)
            chosen.append(replace(original.shipping, fee=original.shipping.fee if fee is None else fee))
        else:
            chosen.append(original.shipping)
    return chosen


async def split_order(
    session: AsyncSession,
    order_id: UUID,
    if_match: str | None,
    data: SplitIn,
    actor: Actor,
    couriers: CourierRegistry,
    settings: Settings,
    *,
    dry_run: bool = False,
) -> tuple[OrderRow, list[OrderRow], list[Order] | None]:
    """The original, the new parts (rows, or for a dry run unsaved rows) and, for a dry run, their content."""
    parts = [
        sp.Part(take=[(str(line.line_id), line.quantity) for line in part.lines], recipient=_recipient(part, i))
        for i, part in enumerate(data.parts)
    ]
    row = await get_order(session, order_id)
    if not dry_run or if_match:
        check_precondition(if_match, row.version)
    waiting = pending.waiting_reason(row)
    if waiting is not None:
        raise OrderNotAmendable(f"it cannot be split: {waiting}")
    # Fees are quoted before the write starts: a courier call must not hold the order (or SQLite's writer).
    draft, drafts = sp.split(mapping.to_domain(row), parts, [row_shipping(row)] * len(parts), mapping.new_line_id)
    shipping = await _fees(data, draft, drafts, couriers, settings)
    if not dry_run:
        await session.rollback()  # end the read, so the write starts as a writer (BEGIN IMMEDIATE on SQLite)
        await begin_write(session)
        row = await get_order(session, order_id, lock=True)
        check_precondition(if_match, row.version)
    before = mapping.to_domain(row)
    original, new_orders = sp.split(before, parts, shipping, mapping.new_line_id)
    if dry_run:
        return row, [_draft_row(row, i) for i in range(len(new_orders))], [original, *new_orders]
    part_rows = []
    for order in new_orders:
        part_row = OrderRow(
            code=new_code(),
            version=1,
            customer_id=row.customer_id,
            channel=row.channel,
            split_from_id=row.id,
            lines=[],
        )
        mapping.write(part_row, order)
        session.add(part_row)
        part_rows.append((part_row, order))
    await session.flush()
    for part_row, order in part_rows:
        reason = _with_reason(f"split from {row.code}", data.reason)
        record_change(session, part_row, actor, "split_from", None, order, reason=reason)
    mapping.write(row, original)
    row.version += 1
    codes = ", ".join(r.code for r, _ in part_rows)
    record_change(
        session,
        row,
        actor,
        "split",
        before,
        original,
        reason=f"split into {codes}" + (f": {data.reason}" if data.reason else ""),
    )
    await stock.move(session, [(row, original), *part_rows])  # each part holds what it sends
    parcels = [(row.code, original), *((r.code, order) for r, order in part_rows)]
    await triggers.order_split(session, row, before, parcels)
    await session.flush()
    for part_row, _ in part_rows:
        await session.refresh(part_row, ["shipment"])
    await session.refresh(row, ["shipment"])
    return row, [r for r, _ in part_rows], None


def row_shipping(row: OrderRow) -> Shipping:
    return Shipping(fee=row.shipping_fee, payer=Payer(row.shipping_payer))


def _draft_row(original: OrderRow, index: int) -> OrderRow:
    """An unsaved order row that gives a dry run's part its identity in the answer (never added to the session)."""
    now = datetime.datetime.now(datetime.UTC)
    return OrderRow(
        id=uuid.uuid4(),
        code=f"{original.code}-{index + 1}?",
        version=0,
        customer_id=original.customer_id,
        channel=original.channel,
        split_from_id=original.id,
        shipment=None,
        lines=[],
        created_at=now,
        updated_at=now,
    )
