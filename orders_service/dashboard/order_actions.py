"""Actions on one order, each previewed before it is committed: amend, confirm, ship, cancel, send the edit link.

The preview is the service's own dry run (amendments) or the order as it stands (a status move changes no
money); the commit sends the version staff saw, so a change made meanwhile is refused, not overwritten.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from orders_service.catalogue.offers import Offer
from orders_service.catalogue.offers import offers as catalogue_offers
from orders_service.dashboard.amend_form import operations, read, variant_value
from orders_service.dashboard.create_pages import added_lines, catalogue_products, offers
from orders_service.dashboard.i18n import N_, gettext
from orders_service.dashboard.order_page import render_order
from orders_service.dashboard.pages import DashboardRequest, attempt, end_read, form_of, one, page, problem_of
from orders_service.dashboard.services import points_of
from orders_service.domain.errors import DomainError
from orders_service.domain.model import OrderStatus
from orders_service.geo import AddressError, Warehouse, provinces, wards
from orders_service.infra.deps import DbSession, discounts_of, warehouse_of
from orders_service.links.services import create_link
from orders_service.loyalty.program import program_of
from orders_service.orders import mapping, services
from orders_service.orders.discounts import DiscountPolicy
from orders_service.shipping import window
from orders_service.shipping.choice import ShipIn, choose, order_quotes
from orders_service.shipping.quotes import QuoteOut

MOVES = {  # (title, what it does): translated when shown
    "confirm": (N_("Xác nhận đơn"), N_("Đơn chuyển sang Đã xác nhận; tiền không đổi.")),
    "ship": (N_("Giao cho hãng vận chuyển"), N_("Tạo đơn ở hãng; hãng sẽ thu hộ đúng số COD dưới đây.")),
    "cancel": (
        N_("Huỷ đơn"),
        N_(
            "Đơn bị huỷ; điểm đã dùng được hoàn lại. Nếu hãng đã có vận đơn, đơn chờ hãng xác nhận huỷ vận đơn: "
            "đến lúc đó đơn giữ nguyên COD; hãng đã lấy hàng thì đơn không huỷ được và nhân viên được báo."
        ),
    ),
}


def _wards_of(province_code: int) -> list[tuple[int, str]]:
    try:
        return wards(province_code)
    except AddressError:
        return []


def _choices(order: Any, sold: dict[str, list[Offer]], form: dict[str, list[str]] | None) -> dict[str, Any]:
    """Per line of a SKU the catalogue sells, the variants with enough available to this order (the line's own
    always), each `(value, label, chosen)`: a select for a plain line, boxes for a try-on line's options."""
    found: dict[str, Any] = {}
    for line in order.lines:
        if line.sku not in sold:
            continue
        tryon = line.tryon_options is not None
        current = {(o.size, o.color) for o in line.tryon_options} if tryon else {(line.size, line.color)}
        if form is not None and (f"optsof_{line.id}" in form or f"variant_{line.id}" in form):
            current = {_pair(v) for v in form.get(f"opts_{line.id}" if tryon else f"variant_{line.id}", [])}
        need = 1 if tryon else line.quantity
        found[line.id] = [
            (
                variant_value(o.size, o.color),
                f"{o.size or '-'} / {o.color or '-'} · {o.price:,}₫".replace(",", ".")
                + " · "
                + gettext("còn %(n)s") % {"n": max(0, o.available)},
                (o.size, o.color) in current,
            )
            for o in sold[line.sku]
            if o.available >= need or (o.size, o.color) in current
        ]
    return found


def _pair(value: str) -> tuple[str | None, str | None]:
    try:
        size, color = msgspec.json.decode(value, type=tuple[str | None, str | None])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return (None, None)
    return size, color


async def amend_page_context(session: DbSession, order: Any, form: dict[str, list[str]] | None) -> dict[str, Any]:
    sold = await catalogue_offers(session, order.id, {line.sku for line in order.lines})
    # A line to add from the catalogue, and her points to spend: what the API's amendment also takes.
    products = await catalogue_products(session, [one(form, "add_item")] if form else [])
    return {
        **amend_context(order, form),
        "choices": _choices(order, sold, form),
        "offers": offers(products),
        "points": await points_of(session, order.customer_id),
        "vnd_per_point": program_of(session).vnd_per_redeemed_point,
    }


def amend_context(order: Any, form: dict[str, list[str]] | None) -> dict[str, Any]:
    """The form's values: as typed (after an error or a preview), else the order's own."""
    address = order.recipient.address
    values = {
        "name": order.recipient.name,
        "phones": "\n".join(order.recipient.phones),
        "line": address.line,
        "province_code": str(address.province_code),
        "ward_code": str(address.ward_code),
        "fee": str(order.shipping.fee),
        "payer": order.shipping.payer,
        "payment": "",
        "reason": "",
        "version": str(order.version),
        **{f"qty_{line.id}": str(line.quantity) for line in order.lines},
    }
    if form:
        values.update({k: v[0] for k, v in form.items() if v and k != "_csrf_token" and not k.startswith("opts_")})
    # The try-on boxes ticked: a name that repeats, carried whole to the commit.
    ticked = [(k, v) for k, vs in (form or {}).items() if k.startswith("opts_") for v in vs]
    code = values["province_code"]  # as typed: a number of any length or script must not reach int()
    province = int(code) if code.isascii() and code.isdigit() and len(code) <= 6 else 0
    return {
        "order": order,
        "values": values,
        "ticked": ticked,
        "provinces": provinces(),
        "wards": _wards_of(province),
    }


async def amend_step(
    session: DbSession,
    warehouse: Warehouse,
    discounts: DiscountPolicy,
    request: DashboardRequest,
    order_id: UUID,
) -> Template | Redirect:
    form = await form_of(request)
    order = await render_order(session, warehouse, order_id)
    context = await amend_page_context(session, order, form)
    if_match = f'"{one(form, "version")}"'
    try:
        data = read(form)
        ops = operations(data, order, await added_lines(session, form))
    except DomainError as error:
        return page("amend.html", 422, problem=problem_of(error), **context)
    commit = one(form, "intent") == "commit"
    await end_read(session)
    result, problem = await attempt(
        services.amend_order(
            session, order_id, if_match, ops, data.reason, request.user.actor, dry_run=not commit, discounts=discounts
        )
    )
    if problem is not None or result is None:
        return page("amend.html", problem.status if problem else 500, problem=problem, **context)
    if commit:
        return Redirect(f"/dashboard/orders/{order_id}", status_code=303)
    row, preview = result
    after = mapping.render(row, order.merged_from, warehouse, preview)
    return page("amend_preview.html", after=after, operations=ops, **context)


async def move_step(
    session: DbSession, warehouse: Warehouse, request: DashboardRequest, order_id: UUID, action: str
) -> Template | Redirect:
    form = await form_of(request)
    if_match, reason = f'"{one(form, "version")}"', one(form, "reason") or None
    actor = request.user.actor
    if action == "ship":
        work = ship_step(session, request, order_id, if_match, one(form, "choice"))
    else:
        target = OrderStatus.CONFIRMED if action == "confirm" else OrderStatus.CANCELLED
        work = services.move_order(session, order_id, if_match, target, actor, reason and reason[:500])
    _, problem = await attempt(work)
    if problem is not None:
        order = await render_order(session, warehouse, order_id)
        quotes = await ship_quotes(session, request, order_id) if action == "ship" else []
        context = {"order": order, "action": action, "move": MOVES[action], "quotes": quotes}
        return page("move.html", problem.status, problem=problem, **context)
    return Redirect(f"/dashboard/orders/{order_id}", status_code=303)


async def ship_quotes(session: DbSession, request: DashboardRequest, order_id: UUID) -> list[QuoteOut]:
    """The order's quotes for the ship page, cheapest first (the couriers asked after the page's read ends)."""
    return await order_quotes(session, order_id, request.app.state.couriers, request.app.state.settings)


async def ship_step(
    session: DbSession, request: DashboardRequest, order_id: UUID, if_match: str, choice: str | None
) -> Any:
    """Staff's pick on the ship page: `courier:service` from the quotes, `rule` (the shop's), or nothing (the
    order's own courier, as before quotes existed)."""
    couriers = request.app.state.couriers
    courier = None
    if choice:
        picked, _, service = choice.partition(":")
        wanted = ShipIn() if choice == "rule" else ShipIn(courier=picked[:32], service=service[:64] or None)
        courier = await choose(session, order_id, wanted, couriers, request.app.state.settings)
    settings = request.app.state.settings
    return await window.ship_or_schedule(session, order_id, if_match, request.user.actor, couriers, settings, courier)


async def edit_link_step(
    session: DbSession, warehouse: Warehouse, request: DashboardRequest, order_id: UUID
) -> Template:
    """A new private link for the customer, sent to her through the notification gate; the page shows it once."""
    settings = request.app.state.settings
    await form_of(request)
    now = datetime.datetime.now(datetime.UTC)
    created, problem = await attempt(
        create_link(session, order_id, settings.link_ttl_hours, request.user.actor, settings.public_base_url, now)
    )
    order = await render_order(session, warehouse, order_id)
    if problem is not None or created is None:
        return page("edit_link.html", problem.status if problem else 500, order=order, problem=problem)
    url, expires_at = created
    return page("edit_link.html", order=order, url=url, expires_at=expires_at)


async def ship_now_step(
    session: DbSession, warehouse: Warehouse, request: DashboardRequest, order_id: UUID
) -> Template | Redirect:
    """Staff send a ship held by the edit window at once."""
    form = await form_of(request)
    work = window.ship_or_schedule(
        session,
        order_id,
        f'"{one(form, "version")}"',
        request.user.actor,
        request.app.state.couriers,
        request.app.state.settings,
        now=True,
    )
    _, problem = await attempt(work)
    if problem is not None:
        order = await render_order(session, warehouse, order_id)
        return page("move.html", problem.status, order=order, action="ship", move=MOVES["ship"], problem=problem)
    return Redirect(f"/dashboard/orders/{order_id}", status_code=303)


class OrderActions(Controller):
    path = "/dashboard/orders/{order_id:uuid}"
    include_in_schema = False

    @get("/amend")
    async def amend_form(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Template:
        order = await render_order(db_session, warehouse_of(request), order_id)
        return page("amend.html", **await amend_page_context(db_session, order, None))

    @post("/amend", status_code=200)
    async def amend(
        self,
        request: DashboardRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
    ) -> Template | Redirect:
        return await amend_step(db_session, warehouse_of(request), discounts_of(request), request, order_id)

    @get("/edit-link")
    async def edit_link_form(
        self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Template:
        return page("edit_link.html", order=await render_order(db_session, warehouse_of(request), order_id))

    @post("/edit-link", status_code=200)
    async def send_edit_link(
        self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Template:
        return await edit_link_step(db_session, warehouse_of(request), request, order_id)

    @get(["/confirm", "/ship", "/cancel"])
    async def move_form(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Template:
        action = request.url.path.rsplit("/", 1)[-1]
        order = await render_order(db_session, warehouse_of(request), order_id)
        quotes = await ship_quotes(db_session, request, order_id) if action == "ship" else []
        return page("move.html", order=order, action=action, move=MOVES[action], quotes=quotes)

    @post("/ship-now", status_code=200)
    async def ship_now(
        self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await ship_now_step(db_session, warehouse_of(request), request, order_id)

    @post(["/confirm", "/ship", "/cancel"], status_code=200)
    async def move(
        self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await move_step(
            db_session, warehouse_of(request), request, order_id, request.url.path.rsplit("/", 1)[-1]
        )


class GeoOptions(Controller):
    path = "/dashboard/geo"
    include_in_schema = False

    @get("/wards")
    async def ward_options(self, province_code: FromQuery[int]) -> Template:
        """The <option>s of a province's wards, for the address form's ward list."""
        return page("_wards.html", wards=_wards_of(province_code), selected=None)
