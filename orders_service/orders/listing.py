"""The order list: filters any caller combines (API, dashboard, a customer's orders), newest first, a page."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from advanced_alchemy.filters import LimitOffset, OrderBy
from sqlalchemy import ColumnElement, Row, String, and_, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Customer, CustomerPhone, Shipment
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import OrderStatus
from orders_service.domain.phones import normalise_phone
from orders_service.geo import fold
from orders_service.infra.pagination import Repository


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
    """Every filter given, as conditions on the order: its own columns, its customer's phones, its shipment."""
    code = filters.code.strip().upper() if filters.code is not None else None
    equal = ((OrderRow.customer_id, filters.customer_id), (OrderRow.channel, filters.channel),
             (OrderRow.courier, filters.courier), (OrderRow.code, code))  # fmt: skip
    found: list[ColumnElement[bool]] = [column == value for column, value in equal if value is not None]
    if filters.status:
        found.append(OrderRow.status.in_([str(s) for s in filters.status]))
    if (start := _utc(filters.created_from)) is not None:
        found.append(OrderRow.created_at >= start)
    if (end := _utc(filters.created_to)) is not None:
        found.append(OrderRow.created_at < end)
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
    session: AsyncSession, filters: OrderFilters, limit: int, offset: int
) -> tuple[list[OrderRow], int]:
    """A page of the orders that match every filter given, newest first, and how many match in all."""
    rows, total = await OrderRepository(session=session).get_many_and_count(
        *_matching(filters), OrderBy("created_at", "desc"), OrderBy("id", "desc"), LimitOffset(limit, offset)
    )
    return list(rows), total


# What a list of orders shows (the dashboard's): no order object, no lines, parcel or package, the customer's
# name and the courier sync's state joined in (a shipment is one per order). Built once, page bounds as bound
# values: unfiltered (the list as it opens), the statement and its cache key are the same object every time.
_SHOWN = (OrderRow.id, OrderRow.code, OrderRow.created_at, OrderRow.status, OrderRow.courier, OrderRow.cod_amount,
          OrderRow.recipient_name, Customer.full_name.label("customer_name"), Shipment.sync_state)  # fmt: skip
_SUMMARY = (
    select(*_SHOWN)
    .join(Customer, Customer.id == OrderRow.customer_id)
    .outerjoin(Shipment, Shipment.order_id == OrderRow.id)
    .order_by(OrderRow.created_at.desc(), OrderRow.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_COUNT = select(func.count()).select_from(OrderRow)


async def order_summaries(
    session: AsyncSession, filters: OrderFilters, limit: int, offset: int
) -> tuple[list[Row[Any]], int]:
    """list_orders for a list that shows only the summary's columns: one SELECT of them, and the COUNT only when
    the page does not tell the total (a first page shorter than `limit` is every match)."""
    where = _matching(filters)
    query = _SUMMARY.where(*where) if where else _SUMMARY
    rows = list((await session.execute(query, {"limit": limit, "offset": offset})).all())
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    return rows, int(await session.scalar(_COUNT.where(*where) if where else _COUNT) or 0)
