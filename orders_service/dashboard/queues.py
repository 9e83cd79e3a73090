"""Work queues: orders whose courier refused a change (with its message and a retry), try-on deliveries
waiting for staff to say what the customer kept, and outbox messages the relay gave up on (with a retry)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orders_service.dashboard.i18n import N_, gettext
from orders_service.dashboard.order_page import render_order
from orders_service.dashboard.pages import DashboardRequest, attempt, convert, end_read, form_of, one, page, problem_of
from orders_service.dashboard.services import courier_report, customer_names
from orders_service.deliveries.schemas import ReviewIn
from orders_service.deliveries.services import review_delivery
from orders_service.domain.errors import DomainError
from orders_service.domain.model import OrderStatus
from orders_service.geo import Warehouse
from orders_service.infra.deps import DbSession, warehouse_of
from orders_service.orders.listing import OrderFilters, list_orders
from orders_service.orders.schemas import OrderOut
from orders_service.relay.dead_letters import list_dead_letters, retry_dead_letter
from orders_service.shipping.services import retry_sync

QUEUE_SIZE = 100
# An outbox topic's family (`order.`, `notifications.`...) in words: what the system was doing when it gave up.
JOB_LABELS = {
    "order": N_("Đồng bộ đơn với hãng vận chuyển"),
    "shipping": N_("Giao đơn cho hãng khi hết giờ chờ khách sửa"),
    "notifications": N_("Gửi tin nhắn cho khách"),
    "campaigns": N_("Gửi chiến dịch tin nhắn"),
}


def job_label(topic: str) -> str:
    family = topic.split(".", 1)[0]
    return gettext(JOB_LABELS[family]) if family in JOB_LABELS else gettext("Việc khác")


async def queues_context(session: DbSession) -> dict[str, Any]:
    failed, failed_total = await list_orders(session, OrderFilters(sync_state="sync_failed"), QUEUE_SIZE, 0)
    review, review_total = await list_orders(session, OrderFilters(status=[OrderStatus.NEEDS_REVIEW]), QUEUE_SIZE, 0)
    names = await customer_names(session, [*failed, *review])
    dead, dead_total = await list_dead_letters(session, QUEUE_SIZE)
    return {
        "dead": dead,
        "dead_total": dead_total,
        "failed": [(row, names.get(row.customer_id, "")) for row in failed],
        "failed_total": failed_total,
        "review": [(row, names.get(row.customer_id, "")) for row in review],
        "review_total": review_total,
        "job": job_label,
    }


def choices(order: OrderOut) -> list[dict[str, Any]]:
    """What could have been kept, item by item: a plain line's own variant, or each try-on option."""
    found = []
    for line in order.lines:
        options = line.tryon_options or []
        variants: list[tuple[str | None, str | None, int | None]] = [
            (o.size, o.color, o.unit_price) for o in options
        ] or [(line.size, line.color, line.unit_price)]
        for index, (size, color, price) in enumerate(variants):
            found.append(
                {
                    "key": f"{line.id}_{index}",
                    "sku": line.sku,
                    "name": line.name,
                    "size": size,
                    "color": color,
                    "unit_price": price,
                    "most": line.quantity,
                }
            )
    return found


def review_input(order: OrderOut, form: dict[str, list[str]]) -> ReviewIn:
    kept = []
    for item in choices(order):
        raw = one(form, f"kept_{item['key']}", "0") or "0"
        if raw != "0":
            kept.append({"sku": item["sku"], "size": item["size"], "color": item["color"], "quantity": raw})
    return convert({"kept": kept, "note": one(form, "note") or None}, ReviewIn)


async def review_context(session: DbSession, warehouse: Warehouse, order_id: UUID) -> dict[str, Any]:
    order = await render_order(session, warehouse, order_id)
    why = await courier_report(session, order_id)
    return {"order": order, "choices": choices(order), "why": why}


class QueuePages(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/queues")
    async def queues(self, db_session: DbSession) -> Template:
        return page("queues.html", **await queues_context(db_session))

    @post("/queues/sync-failed/{order_id:uuid}/retry", status_code=303)
    async def retry(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Redirect:
        await retry_sync(db_session, order_id, request.user.actor)
        return Redirect(f"/dashboard/orders/{order_id}", status_code=303)

    @post("/queues/dead-letters/{message_id:uuid}/retry", status_code=303)
    async def retry_dead(
        self, request: DashboardRequest, db_session: DbSession, message_id: FromPath[UUID]
    ) -> Redirect:
        await retry_dead_letter(db_session, message_id, request.user.actor)
        return Redirect("/dashboard/queues#dead-letters", status_code=303)

    @get("/orders/{order_id:uuid}/review")
    async def review_form(self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]) -> Template:
        return page("review.html", values={}, **await review_context(db_session, warehouse_of(request), order_id))

    @post("/orders/{order_id:uuid}/review", status_code=200)
    async def review(
        self, request: DashboardRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Template | Redirect:
        form = await form_of(request)
        context = await review_context(db_session, warehouse_of(request), order_id)
        values = {k: v[0] for k, v in form.items() if v}
        try:
            data = review_input(context["order"], form)
        except DomainError as error:
            return page("review.html", 422, values=values, problem=problem_of(error), **context)
        if_match = f'"{one(form, "version")}"'
        await end_read(db_session)
        _, problem = await attempt(review_delivery(db_session, order_id, if_match, data, request.user.actor))
        if problem is not None:
            return page("review.html", problem.status, values=values, problem=problem, **context)
        return Redirect(f"/dashboard/orders/{order_id}", status_code=303)
