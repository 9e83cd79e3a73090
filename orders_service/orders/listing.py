"""The order list: filters any caller combines (API, dashboard, a customer's orders), newest first, a page."""

from __future__ import annotations

import datetime
from uuid import UUID

import msgspec
from advanced_alchemy.filters import BeforeAfter, CollectionFilter, LimitOffset, OnBeforeAfter, OrderBy
from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import noload

from orders_service.db.models import Customer, CustomerPhone, Shipment
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import OrderStatus
from orders_service.domain.phones import normalise_phone
from orders_service.geo import fold
from orders_service.infra.pagination import Repository, given


class OrderRepository(Repository[OrderRow]):
    model_type = OrderRow


class OrderFilters(msgspec.Struct, kw_only=True):
    status: list[OrderStatus] | None = None
    customer_id: UUID | None = None
    phone: str | None = None
    channel: str | None = None
    courier: str | None = None
    code: str | None = None
    name: str | None = None  # words of the customer's or the recipient's name
    created_from: datetime.datetime | None = None
    created_to: datetime.datetime | None = None
    sync_state: str | None = None  # the shipment's: pending | synced | sync_failed


def _utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A bound in UTC: without an offset it is taken as UTC; past the calendar's ends it stops at them."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:
        edge = datetime.datetime.min if moment.year == 1 else datetime.datetime.max
        return edge.replace(tzinfo=datetime.UTC)


def _containing(word: str) -> str:
    """A LIKE pattern for `word` anywhere, its own % and _ taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(filters: OrderFilters) -> list[ColumnElement[bool]]:
    """The filters that look beyond the order's own columns: its customer's phones, its shipment."""
    found = []
    if filters.phone is not None:
        e164 = normalise_phone(filters.phone, "phone")
        owners = select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164)
        found.append(or_(OrderRow.customer_id.in_(owners), cast(OrderRow.recipient_phones, String).like(f'%"{e164}"%')))
    words = fold(filters.name or "").lower().split()[:5]
    if words:
        # The customer's name is stored folded (accents optional); the recipient's as typed, matched case-blind.
        customers = select(Customer.id).where(*(Customer.search_name.like(_containing(w), escape="\\") for w in words))
        typed = (filters.name or "").split()[:5]
        recipient = and_(*(OrderRow.recipient_name.ilike(_containing(w), escape="\\") for w in typed))
        found.append(or_(OrderRow.customer_id.in_(customers), recipient))
    if filters.sync_state is not None:
        found.append(OrderRow.id.in_(select(Shipment.order_id).where(Shipment.sync_state == filters.sync_state)))
    return found


async def list_orders(
    session: AsyncSession, filters: OrderFilters, limit: int, offset: int, *, lines: bool = True
) -> tuple[list[OrderRow], int]:
    """A page of the orders that match every filter given, newest first, and how many match in all.

    `lines=False` for a list that shows none (the dashboard's): their query is most of the page's work.
    """
    rows, total = await OrderRepository(session=session).get_many_and_count(
        CollectionFilter("status", [str(s) for s in filters.status] if filters.status else None),
        OnBeforeAfter("created_at", on_or_before=None, on_or_after=_utc(filters.created_from)),
        BeforeAfter("created_at", before=_utc(filters.created_to), after=None),
        *_matching(filters),
        OrderBy("created_at", "desc"),
        OrderBy("id", "desc"),
        LimitOffset(limit, offset),
        **given(
            customer_id=filters.customer_id,
            channel=filters.channel,
            courier=filters.courier,
            code=filters.code.strip().upper() if filters.code is not None else None,
        ),
        load=None if lines else [noload(OrderRow.lines)],
    )
    return list(rows), total
