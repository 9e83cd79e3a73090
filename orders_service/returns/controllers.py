"""HTTP: return requests of a delivered order, asked and decided by staff (the customer asks on her page)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from orders_service.infra import clock
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page
from orders_service.orders.controllers import StaffRequest
from orders_service.returns import services
from orders_service.returns.schemas import DecisionIn, ReturnRequestIn, ReturnRequestOut, ReturnRequestsOut

WINDOW = (
    "Only a delivered or partially delivered order, within ORDERS_RETURN_WINDOW_DAYS (default 7) after it became "
    "so; otherwise a 409 (`/not-amendable`) saying why."
)


class ReturnRequestController(Controller):
    tags = ["Returns"]  # noqa: RUF012

    @post(
        "/api/orders/{order_id:uuid}/return-requests",
        status_code=201,
        summary="Ask to return some of what the customer kept",
        description="Items by sku/size/color with a quantity each (at most what she kept less what her open and "
        f"approved requests already ask back: else a 422 naming `items[i].quantity`), and a reason. {WINDOW}",
    )
    async def create_request(
        self, request: StaffRequest, db_session: DbSession, order_id: FromPath[UUID], data: JSONBody[ReturnRequestIn]
    ) -> ReturnRequestOut:
        items = [(i.sku, i.size, i.color, i.quantity) for i in data.items]
        settings = request.app.state.settings
        made = await services.create_request(
            db_session, order_id, items, data.reason, request.user, settings.return_window_days, clock.now()
        )
        return await services.get_request(db_session, made.id)

    @get(
        "/api/orders/{order_id:uuid}/return-requests",
        summary="The order's return requests, what may still be asked back, and until when",
    )
    async def list_requests(
        self, request: StaffRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> ReturnRequestsOut:
        days = request.app.state.settings.return_window_days
        return await services.list_requests(db_session, order_id, days, clock.now())

    @get("/api/return-requests", summary="Return requests waiting for a decision, oldest first")
    async def open_requests(
        self, db_session: DbSession, limit: Limit = 50, offset: Offset = 0
    ) -> Page[ReturnRequestOut]:
        items, total = await services.open_requests(db_session, limit, offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        "/api/return-requests/{request_id:uuid}/approve",
        status_code=200,
        summary="Approve a return request: stock, points and spend follow, once",
        description="In one transaction: the items back on hand (catalogue SKUs), her points and tier spend "
        "reversed pro rata for these items only (the refund: kept prices less their share of the order's "
        "discount), an event on the order. A request already decided is a 409.",
    )
    async def approve(
        self,
        request: StaffRequest,
        db_session: DbSession,
        request_id: FromPath[UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> ReturnRequestOut:
        note = data.reason if data else None
        await services.approve(db_session, request_id, request.user, note, clock.now())
        return await services.get_request(db_session, request_id)

    @post(
        "/api/return-requests/{request_id:uuid}/reject",
        status_code=200,
        summary="Reject a return request, with an optional reason she will see",
    )
    async def reject(
        self,
        request: StaffRequest,
        db_session: DbSession,
        request_id: FromPath[UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> ReturnRequestOut:
        note = data.reason if data else None
        await services.reject(db_session, request_id, request.user, note, clock.now())
        return await services.get_request(db_session, request_id)
