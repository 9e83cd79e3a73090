"""The orders list: filters, search by order code, any phone form or a name, pages of 50; a fixed number of
queries."""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any

from litestar import Controller, get
from litestar.response import Template
from msgspec import Meta, Struct

from couriers.capabilities import COURIERS
from orders_service.dashboard.pages import VIETNAM, DashboardRequest, attempt, convert, page, problem_of
from orders_service.domain.errors import DomainError
from orders_service.domain.model import ONE_LINE, OrderStatus
from orders_service.infra.deps import DbSession
from orders_service.orders.listing import OrderFilters, order_summaries

PAGE_SIZE = 50
CODE = re.compile(r"^DH[A-Z0-9]{8}$")
PHONE_LIKE = re.compile(r"^[\d\s+().-]*\d[\d\s+().-]*$")  # digits: a phone, even a wrong one


class ListQuery(Struct, kw_only=True):
    q: Annotated[str, Meta(max_length=120, pattern=ONE_LINE)] | None = None  # an order code, a phone or a name
    status: OrderStatus | None = None
    courier: Annotated[str, Meta(pattern="^(" + "|".join(COURIERS) + ")$")] | None = None
    sync_failed: bool = False
    date_from: datetime.date | None = None  # days in Vietnam's time
    date_to: datetime.date | None = None
    page: Annotated[int, Meta(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Meta(ge=10, le=100)] = PAGE_SIZE


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), VIETNAM)


def filters_of(query: ListQuery) -> OrderFilters:
    """The service's filters: a search that looks like an order code is one, digits are a phone, words a name."""
    text = (query.q or "").strip()
    code = text.upper() if CODE.match(text.upper()) else None
    phone = text if text and code is None and PHONE_LIKE.match(text) else None
    return OrderFilters(
        status=[query.status] if query.status else None,
        courier=query.courier,
        code=code,
        phone=phone,
        name=text if text and code is None and phone is None else None,
        sync_state="sync_failed" if query.sync_failed else None,
        created_from=_day_start(query.date_from) if query.date_from else None,
        created_to=_day_start(query.date_to + datetime.timedelta(days=1)) if query.date_to else None,
    )


async def orders_page(session: DbSession, raw: dict[str, str]) -> dict[str, Any]:
    given = {k: v for k, v in raw.items() if v.strip()}
    query, problem = ListQuery(), None
    try:
        query = convert(given, ListQuery)
    except DomainError as error:  # shown above an empty list
        problem = problem_of(error)
    rows: list[Any] = []
    total = 0
    if problem is None:  # the summary's columns only (with her name and the sync state): one SELECT, no objects
        found, problem = await attempt(
            order_summaries(session, filters_of(query), query.per_page, (query.page - 1) * query.per_page)
        )
        rows, total = found or ([], 0)
    return {
        "orders": rows,
        "total": total,
        "query": query,
        "raw": given,
        "problem": problem,
        "statuses": list(OrderStatus),
        "couriers": COURIERS,
        "pages": max(1, -(-total // query.per_page)),
    }


class OrderListPage(Controller):
    path = "/dashboard/orders"
    include_in_schema = False

    @get("/")
    async def list_orders(self, request: DashboardRequest, db_session: DbSession) -> Template:
        context = await orders_page(db_session, dict(request.query_params))
        status = context["problem"].status if context["problem"] else 200
        return page("orders.html", status, **context)
