"""Merge orders into one parcel, or split one into two: the same use cases as the API, previewed first."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orders_service.dashboard.i18n import N_
from orders_service.dashboard.order_page import render_order
from orders_service.dashboard.pages import DashboardRequest, attempt, convert, end_read, form_of, one, page, problem_of
from orders_service.dashboard.split_form import PARTS, split_field, split_input
from orders_service.domain.errors import DomainError, InvalidField
from orders_service.domain.model import OrderStatus
from orders_service.geo import AddressError, Warehouse, provinces, wards
from orders_service.infra.deps import DbSession, discounts_of, warehouse_of
from orders_service.orders import family, mapping
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.family_schemas import MergeIn
from orders_service.orders.listing import OrderFilters, list_orders
from orders_service.orders.schemas import OrderOut

MERGEABLE = [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.READY_TO_SHIP]


async def merge_context(session: DbSession, warehouse: Warehouse, order_id: UUID) -> dict[str, Any]:
    """The order and the same customer's other orders that could still join its parcel."""
    order = await render_order(session, warehouse, order_id)
    rows, _ = await list_orders(session, OrderFilters(customer_id=order.customer_id, status=MERGEABLE), 50, 0)
    others = [mapping.render(r, [], warehouse) for r in rows if r.id != order.id]
    keep = {"recipient_from": str(order.id), "address_from": str(order.id)}
    return {"order": order, "candidates": others, "keep": keep}


def merge_input(order: OrderOut, form: dict[str, list[str]]) -> MergeIn:
    chosen = form.get("order_ids", [])
    if not chosen:
        raise InvalidField("order_ids", N_("chọn ít nhất một đơn khác để gộp vào đơn này"))
    versions = {k.removeprefix("v_"): v[0] for k, v in form.items() if k.startswith("v_") and v}
    return convert(
        {
            "order_ids": [str(order.id), *chosen],
            "into": str(order.id),
            # Whose recipient and whose address the one parcel keeps (the address brings its shipping fee).
            "recipient_from": one(form, "recipient_from") or None,
            "address_from": one(form, "address_from") or None,
            "versions": {str(order.id): one(form, "version"), **versions},
            "reason": one(form, "reason") or None,
        },
        MergeIn,
    )


async def merge_step(
    session: DbSession,
    warehouse: Warehouse,
    discounts: DiscountPolicy,
    request: DashboardRequest,
    order_id: UUID,
) -> Template | Redirect:
    form = await form_of(request)
    context = await merge_context(session, warehouse, order_id)
    context["chosen"] = set(form.get("order_ids", []))
    context["keep"] = {k: one(form, k) or v for k, v in context["keep"].items()}
    try:
        data = merge_input(context["order"], form)
    except DomainError as error:
        return page("merge.html", 422, problem=problem_of(error), **context)
    commit = one(form, "intent") == "commit"
    await end_read(session)
    result, problem = await attempt(
        family.merge_orders(session, data, request.user.actor, discounts, dry_run=not commit)
    )
    if problem is not None or result is None:
        return page("merge.html", problem.status if problem else 500, problem=problem, **context)
    if commit:
        return Redirect(f"/dashboard/orders/{order_id}", status_code=303)
    row, preview = result
    merged = mapping.render(row, [], warehouse, preview)
    return page("merge.html", preview=merged, form=form, **context)


def split_context(order: OrderOut, form: dict[str, list[str]]) -> dict[str, Any]:
    """The order, what was typed, and per part the wards of the province chosen for a new recipient."""
    values = {k: v[0] for k, v in form.items() if v and k != "_csrf_token"}
    wards = [_wards_of(values.get(f"province_code_{p}", "")) for p in range(PARTS)]
    parts = range(PARTS)
    return {"order": order, "values": values, "parts": parts, "provinces": provinces(), "wards": wards, "errors": {}}


def _wards_of(province: str) -> list[tuple[int, str]]:
    try:
        # as typed: only a short run of ASCII digits reaches int() (5,000 digits would raise, not be refused)
        return wards(int(province)) if province.isascii() and province.isdigit() and len(province) <= 6 else []

    except AddressError:
        return []


def _refused(context: dict[str, Any], form: dict[str, list[str]], error: DomainError) -> Template:
    problem = problem_of(error)
    name = split_field(str(getattr(error, "field", "")), form)
    errors = {name: problem.detail} if name else {}
    return page("split.html", problem.status, problem=problem, **{**context, "errors": errors})


async def split_step(
    session: DbSession, warehouse: Warehouse, request: DashboardRequest, order_id: UUID
) -> Template | Redirect:
    form = await form_of(request)
    order = await render_order(session, warehouse, order_id)
    context = split_context(order, form)
    try:
        data = split_input(order, form)
    except DomainError as error:
        return _refused(context, form, error)
    commit = one(form, "intent") == "commit"
    if_match = f'"{one(form, "version")}"'
    couriers, settings = request.app.state.couriers, request.app.state.settings
    try:
        result = await family.split_order(
            session, order_id, if_match, data, request.user.actor, couriers, settings, dry_run=not commit
        )
    except DomainError as error:
        return _refused(context, form, error)
    if commit:
        return Redirect(f"/dashboard/orders/{order_id}", status_code=303)
    row, parts, previews = result
    assert previews is not None  # a dry run answers its orders' content
    shown = [mapping.render(r, [], warehouse, p) for r, p in zip([row, *parts], previews, strict=True)]
    return page("split.html", preview=shown, **context)


class FamilyPages(Controller):
    path = "/dashboard/orders/{order_id:uuid}"
    include_in_schema = False

    @get("/merge")
    async def merge_form(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Template:
        return page("merge.html", chosen=set(), **await merge_context(db_session, warehouse_of(request), order_id))

    @post("/merge", status_code=200)
    async def merge(
        self,
        request: DashboardRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
    ) -> Template | Redirect:
        return await merge_step(db_session, warehouse_of(request), discounts_of(request), request, order_id)

    @get("/split")
    async def split_form(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Template:
        return page("split.html", **split_context(await render_order(db_session, warehouse_of(request), order_id), {}))

    @post("/split", status_code=200)
    async def split(
        self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await split_step(db_session, warehouse_of(request), request, order_id)
