"""HTTP: review a partial delivery the courier did not itemise; the returns of an order's parcel."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from orders_service.deliveries import services
from orders_service.deliveries.schemas import ReturnsOut, ReviewIn
from orders_service.infra.deps import DbSession, warehouse_of
from orders_service.orders.controllers import ETAG_HEADER, IfMatch, StaffRequest, answer
from orders_service.orders.schemas import ActionIn, OrderOut


class DeliveryController(Controller):
    path = "/api/orders"
    tags = ["Orders"]  # noqa: RUF012

    @post(
        "/{order_id:uuid}/review",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="Staff say what the customer kept of a partial delivery (If-Match; only in needs_review)",
        description="The kept items (a plain line's variant or a try-on option, and how many) become the lines' "
        "`kept`; money is recomputed and the order becomes delivered, partially_delivered, or returning when "
        "she kept nothing. Items the parcel did not hold, or more than it held, are a 422 naming `kept[i]`.",
    )
    async def review_delivery(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        data: JSONBody[ReviewIn],
        if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        row = await services.review_delivery(db_session, order_id, if_match, data, request.user)
        return await answer(db_session, warehouse_of(request), row)

    @post(
        "/{order_id:uuid}/return",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="The customer brought a delivered order back to the shop (If-Match; only delivered orders)",
        description="The order becomes `returned`, all it held goes back to stock, and its points, spend and "
        "order count leave her loyalty ledger (a `reverse` entry); her tier is re-evaluated.",
    )
    async def record_return(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        data: JSONBody[ActionIn | None] = None,
        if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        reason = data.reason if data else None
        row = await services.record_return(db_session, order_id, if_match, reason, request.user)
        return await answer(db_session, warehouse_of(request), row)

    @get("/{order_id:uuid}/returns", summary="What came back from the order's parcel, to put back in stock")
    async def list_returns(self, db_session: DbSession, order_id: FromPath[UUID]) -> ReturnsOut:
        return await services.list_returns(db_session, order_id)
