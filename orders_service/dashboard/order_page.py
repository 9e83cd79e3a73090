"""An order's page: lines, recipient and phones, money, shipment, the full timeline, and what staff can do."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from orders_service.customers.services import get_customer
from orders_service.dashboard import timeline
from orders_service.dashboard.i18n import N_
from orders_service.dashboard.pages import DashboardRequest, page
from orders_service.dashboard.services import family_codes
from orders_service.domain.model import Order, OrderStatus
from orders_service.geo import Warehouse
from orders_service.infra.deps import DbSession, warehouse_of
from orders_service.infra.settings import Settings
from orders_service.orders import loader, mapping, services
from orders_service.orders.schemas import OrderOut
from orders_service.returns import services as returns
from orders_service.shipping import window

OPEN = {OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.READY_TO_SHIP}


def actions_for(order: OrderOut) -> list[tuple[str, str]]:
    """Links to the actions the order's status allows: (path below the order, label to translate when shown)."""
    status = OrderStatus(order.status)
    found: list[tuple[str, str]] = []
    if order.pending_cancel is not None:  # nothing changes until the courier answers the cancel
        return found
    if status in OPEN or status is OrderStatus.IN_TRANSIT:
        found.append(("amend", N_("Sửa đơn")))
    if status is OrderStatus.PENDING:
        found.append(("confirm", N_("Xác nhận")))
    if status is OrderStatus.CONFIRMED and order.shipment is None:
        found.append(("ship", N_("Giao cho hãng")))
    if status in OPEN:
        found += [
            ("edit-link", N_("Gửi link sửa đơn")),
            ("split", N_("Tách đơn")),
            ("merge", N_("Gộp đơn")),
            ("cancel", N_("Huỷ đơn")),
        ]
    if status is OrderStatus.NEEDS_REVIEW:
        found.append(("review", N_("Kiểm tra hàng hoàn")))
    return found


async def render_order(
    session: DbSession, warehouse: Warehouse, order_id: UUID, preview: Order | None = None
) -> OrderOut:
    """The order as the API answers it (money computed by the domain), or as a dry run would leave it."""
    row = await services.get_order(session, order_id)
    merged = await loader.merged_from(session, [row.id])
    return mapping.render(row, merged[row.id], warehouse, preview)


async def order_context(
    session: DbSession, warehouse: Warehouse, order_id: UUID, settings: Settings | None = None
) -> dict[str, Any]:
    order = await render_order(session, warehouse, order_id)
    if settings is not None and order.status == OrderStatus.CONFIRMED:  # a ship held by the edit window
        order = msgspec.structs.replace(order, ship_at=await window.ship_at(session, order_id, settings))
    customer = await get_customer(session, order.customer_id)
    events = await services.list_events(session, order_id)
    return {
        "order": order,
        "customer": customer,
        "timeline": [timeline.entry(e) for e in reversed(events)],  # newest first: what happened last on top
        "actions": actions_for(order),
        "family": await family_codes(session, order.id, order.split_from),
        "courier_status": timeline.courier_status,
        "return_requests": await returns.for_order(session, order.id, order.code),
    }


class OrderPage(Controller):
    path = "/dashboard/orders"
    include_in_schema = False

    @get("/{order_id:uuid}")
    async def show_order(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Template:
        settings = request.app.state.settings
        return page("order.html", **await order_context(db_session, warehouse_of(request), order_id, settings))
