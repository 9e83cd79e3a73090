"""HTTP: ship an order; courier webhooks in."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from couriers.base import Request as WebhookRequest
from couriers.base import WebhookRejected
from orders_service.domain.model import Actor
from orders_service.infra.deps import DbSession, warehouse_of
from orders_service.orders.controllers import ETAG_HEADER, answer
from orders_service.orders.schemas import OrderOut
from orders_service.shipping import services, window
from orders_service.shipping.choice import ShipIn, choose
from orders_service.shipping.registry import CourierRegistry

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", max_length=200)]


class ShipController(Controller):
    path = "/api/orders"
    tags = ["Orders"]  # noqa: RUF012

    @post(
        "/{order_id:uuid}/ship",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="Hand a confirmed order to a courier (If-Match); the courier order is created by the relay",
        description="Within the edit window (ORDERS_EDIT_WINDOW_MINUTES after creation or the customer's last "
        "change through her link) the ship is scheduled instead: 202 with `ship_at`, the order still confirmed; "
        "`?now=true` sends it at once (also a scheduled one). "
        "Without a body the order ships with its own courier, as before. With a JSON body "
        "`{courier?, service?}` staff choose: a courier alone ships with it (a service is checked against its "
        "quote: 422 naming `service` if it offers none such); `{}` lets the shop's rule (`cheapest`, `fastest` or "
        "a fixed courier: ORDERS_SHIP_RULE, or the dashboard's setting) pick from the quotes. No courier able to "
        "take the parcel is a 409.",
    )
    async def ship_order(
        self,
        request: Request[Actor, Any, Any],
        db_session: DbSession,
        order_id: FromPath[UUID],
        if_match: IfMatch = None,
        now: FromQuery[bool] = False,
        data: JSONBody[ShipIn | None] = None,
    ) -> Response[OrderOut]:
        couriers: CourierRegistry = request.app.state.couriers
        settings = request.app.state.settings
        courier = None
        if data is not None:
            courier = await choose(db_session, order_id, data, couriers, settings)
        row, until = await window.ship_or_schedule(
            db_session, order_id, if_match, request.user, couriers, settings, courier, now=now
        )
        response = await answer(db_session, warehouse_of(request), row)
        if until is not None:  # held by the edit window: accepted, it goes to the courier at ship_at
            response.content = msgspec.structs.replace(response.content, ship_at=until)
            response.status_code = 202
        return response


class WebhookController(Controller):
    path = "/webhooks/couriers"
    tags = ["Courier webhooks"]  # noqa: RUF012

    @post(
        "/{courier:str}",
        status_code=200,
        summary="A courier's callback, in its own format; verified first",
        security=[],
        exclude_from_auth=True,
    )
    async def receive(
        self, request: Request[Any, Any, Any], db_session: DbSession, courier: FromPath[str]
    ) -> dict[str, int]:
        registry: CourierRegistry = request.app.state.couriers
        await registry.refresh()  # a secret saved in the dashboard by another process, if this one has not looked
        if courier not in registry.names():
            raise NotAuthorizedException(f"no webhook is expected from {courier[:32]!r}")
        body = await request.body()
        webhook = WebhookRequest(
            headers={k.lower(): v for k, v in request.headers.items()}, query=dict(request.query_params), body=body
        )
        try:
            return await services.receive_webhook(db_session, registry.get(courier), webhook)
        except WebhookRejected as rejected:
            raise NotAuthorizedException(f"webhook rejected: {rejected}") from None
