"""HTTP: the configured couriers with what each accepts to change, and an order's quotes from all of them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath

from couriers.capabilities import ALL_ASPECTS, CAPABILITIES
from orders_service.infra.deps import DbSession
from orders_service.shipping.choice import order_quotes
from orders_service.shipping.quotes import QuoteOut
from orders_service.shipping.registry import CourierRegistry


class CapabilitiesOut(msgspec.Struct, frozen=True):
    before_pickup: list[str]  # every aspect may change before pickup
    recreate_before_pickup: bool  # true: a change before pickup cancels and recreates the courier order (GHTK)
    after_pickup: dict[str, list[str]]  # the courier's own status -> the aspects it still accepts
    after_pickup_refusal: str
    try_on: bool
    partial_delivery: bool


class CourierOut(msgspec.Struct, frozen=True):
    name: str
    capabilities: CapabilitiesOut


def courier_out(name: str) -> CourierOut:
    caps = CAPABILITIES[name]
    return CourierOut(
        name=name,
        capabilities=CapabilitiesOut(
            before_pickup=sorted(ALL_ASPECTS),
            recreate_before_pickup=caps.recreate_before_pickup,
            after_pickup={status: sorted(aspects) for status, aspects in caps.after_pickup.items()},
            after_pickup_refusal=caps.after_pickup_refusal,
            try_on=caps.try_on,
            partial_delivery=caps.partial_delivery,
        ),
    )


class CourierController(Controller):
    path = "/api"
    tags = ["Couriers"]  # noqa: RUF012

    @get("/couriers", summary="The couriers this shop ships with, and what each accepts to change in which status")
    async def list_couriers(self, request: Request[Any, Any, Any]) -> list[CourierOut]:
        registry: CourierRegistry = request.app.state.couriers
        await registry.refresh()  # accounts an admin saved in another process
        return [courier_out(name) for name in registry.names() if name in CAPABILITIES]

    @get(
        "/orders/{order_id:uuid}/quotes",
        summary="Fee and expected delivery from every configured courier, cheapest first",
        description="Asked in parallel for the order's weight, COD and address; all together wait at most "
        "ORDERS_QUOTE_TIMEOUT_S. A courier that fails or does not answer in time is listed with `available: "
        "false` and its `reason`, after the available ones; `fee` and `service` are null then.",
    )
    async def quotes(
        self, request: Request[Any, Any, Any], db_session: DbSession, order_id: FromPath[UUID]
    ) -> list[QuoteOut]:
        registry: CourierRegistry = request.app.state.couriers
        await registry.refresh()
        return await order_quotes(db_session, order_id, registry, request.app.state.settings)
