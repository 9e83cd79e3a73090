"""HTTP: orders, amendments, confirm, cancel and events."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from orders_service.domain.model import Actor, Order, OrderStatus
from orders_service.geo import Warehouse
from orders_service.infra.deps import DbSession, discounts_of, warehouse_of
from orders_service.infra.pagination import Limit, Offset, Page, phone_query, text_query
from orders_service.orders import listing, loader, mapping, services
from orders_service.orders.links import AnswersNewOrder, AnswersOrder, NewOrderBody
from orders_service.orders.schemas import ActionIn, ActorOut, AmendmentIn, EventOut, OrderOut
from orders_service.shipping import window

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", max_length=200, description='the order\'s ETag, e.g. "3"; required to change it'),
]
ETAG_HEADER = [ResponseHeader(name="ETag", description='the order\'s version, e.g. "3"', documentation_only=True)]
StaffRequest = Request[Actor, Any, Any]


async def answer(
    session: DbSession,
    warehouse: Warehouse,
    row: Any,
    status: int = 200,
    order: Order | None = None,
    dry_run: FromQuery[bool] = False,
) -> Response[OrderOut]:
    body = mapping.render(row, (await loader.merged_from(session, [row.id]))[row.id], warehouse, order)
    headers = {"ETag": f'"{row.version}"'}
    if dry_run:
        headers["Preference-Applied"] = "dry-run"
    return Response(content=body, status_code=status, headers=headers)


class OrderController(Controller):
    path = "/api/orders"
    tags = ["Orders"]  # noqa: RUF012

    @post(
        "/",
        status_code=201,
        response_headers=ETAG_HEADER,
        summary="Create an order for an existing customer, or one found by phone, else created",
        operation_class=AnswersNewOrder,
    )
    async def create_order(
        self,
        request: StaffRequest,
        db_session: DbSession,
        data: NewOrderBody,
    ) -> Response[OrderOut]:
        row = await services.create_order(db_session, data, request.user, discounts_of(request))
        return await answer(db_session, warehouse_of(request), row, 201)

    @get(
        "/{order_id:uuid}",
        response_headers=ETAG_HEADER,
        summary="Get an order; its ETag is its version",
        operation_class=AnswersOrder,
    )
    async def get_order(
        self, request: StaffRequest, db_session: DbSession, order_id: FromPath[UUID]
    ) -> Response[OrderOut]:
        response = await answer(db_session, warehouse_of(request), await services.get_order(db_session, order_id))
        if response.content.status == OrderStatus.CONFIRMED:  # only a confirmed order can wait for its courier
            until = await window.ship_at(db_session, order_id, request.app.state.settings)
            response.content = msgspec.structs.replace(response.content, ship_at=until)
        return response

    @get("/", summary="List orders, newest first")
    async def list_orders(
        self,
        request: StaffRequest,
        db_session: DbSession,
        status: Annotated[list[OrderStatus] | None, QueryParameter(description="one or more statuses")] = None,
        customer_id: FromQuery[UUID | None] = None,
        phone: Annotated[str | None, phone_query("customer's or recipient's")] = None,
        channel: Annotated[str | None, text_query(16)] = None,
        courier: Annotated[str | None, text_query(16)] = None,
        code: Annotated[str | None, text_query(16, "the order code, e.g. DH7K2M9QXP")] = None,
        q: Annotated[str | None, text_query(120, "words of the customer's or the recipient's name")] = None,
        created_from: FromQuery[datetime.datetime | None] = None,
        created_to: FromQuery[datetime.datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OrderOut]:
        filters = listing.OrderFilters(
            status=status,
            customer_id=customer_id,
            phone=phone,
            channel=channel,
            courier=courier,
            code=code,
            name=q,
            created_from=created_from,
            created_to=created_to,
        )
        rows, total = await listing.list_orders(db_session, filters, limit, offset)
        merged = await loader.merged_from(db_session, [row.id for row in rows])
        warehouse = warehouse_of(request)
        items = [mapping.render(row, merged[row.id], warehouse) for row in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        "/{order_id:uuid}/amendments",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="Amend an order atomically (If-Match required); ?dry_run=true previews without saving",
        operation_class=AnswersOrder,
    )
    async def amend_order(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        data: JSONBody[AmendmentIn],
        if_match: IfMatch = None,
        dry_run: FromQuery[bool] = False,
    ) -> Response[OrderOut]:
        row, preview = await services.amend_order(
            db_session,
            order_id,
            if_match,
            data.domain_operations(),
            data.reason,
            request.user,
            dry_run=dry_run,
            discounts=discounts_of(request),
        )
        return await answer(db_session, warehouse_of(request), row, order=preview, dry_run=dry_run)

    @post(
        "/{order_id:uuid}/confirm",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="Confirm a pending order (If-Match required)",
    )
    async def confirm_order(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        if_match: IfMatch = None,
        data: JSONBody[ActionIn | None] = None,
    ) -> Response[OrderOut]:
        reason = data.reason if data else None
        row = await services.move_order(db_session, order_id, if_match, OrderStatus.CONFIRMED, request.user, reason)
        return await answer(db_session, warehouse_of(request), row)

    @post(
        "/{order_id:uuid}/cancel",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="Cancel an order that has not been picked up (If-Match required)",
        description="Without a live courier parcel the order is cancelled at once: 200, `status` cancelled, COD 0. "
        "When its courier holds a parcel (a tracking code, or a create that may have reached the courier) the "
        "courier must confirm first: 202 with the order unchanged but for `pending_cancel` "
        "(`{requested_at, by, reason, for: cancel}`); it keeps its status and COD, and refuses amendments (409). "
        "The relay asks the courier to cancel; on its confirmation the order becomes `cancelled` (an event by "
        "the same staff member). If the courier refuses because it picked the parcel up, `pending_cancel` goes, "
        "the order follows the courier (`in_transit`) with its COD, a `cancel_refused` event is recorded and "
        "staff are alerted.",
        responses={
            202: ResponseSpec(
                data_container=OrderOut, description="Accepted: waits for the courier to confirm (pending_cancel)"
            )
        },
    )
    async def cancel_order(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        if_match: IfMatch = None,
        data: JSONBody[ActionIn | None] = None,
    ) -> Response[OrderOut]:
        reason = data.reason if data else None
        row = await services.move_order(db_session, order_id, if_match, OrderStatus.CANCELLED, request.user, reason)
        return await answer(db_session, warehouse_of(request), row, 202 if row.pending_cancel else 200)

    @get("/{order_id:uuid}/events", summary="The order's history, oldest first")
    async def list_events(self, db_session: DbSession, order_id: FromPath[UUID]) -> list[EventOut]:
        return [
            EventOut(
                seq=e.seq,
                at=e.at,
                actor=ActorOut(kind=e.actor_kind, id=e.actor_id),
                type=e.type,
                version=e.version,
                changes=e.changes,
                cod_before=e.cod_before,
                cod_after=e.cod_after,
                reason=e.reason,
                operations=e.operations,
            )
            for e in await services.list_events(db_session, order_id)
        ]
