"""HTTP: a customer's profile, points ledger and order history; segments and their customers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody

from orders_service.auth.middleware import admin_only
from orders_service.customers.schemas import CustomerOut
from orders_service.customers.services import to_out
from orders_service.domain.model import Actor
from orders_service.infra.deps import DbSession, warehouse_of
from orders_service.infra.pagination import Limit, Offset, Page
from orders_service.loyalty import segment_services, services, tier_services
from orders_service.loyalty.schemas import (
    PointsEntryOut,
    ProfileOut,
    SegmentOut,
    TierChangeOut,
    TierFloorIn,
    TierStateOut,
)
from orders_service.orders import loader, mapping
from orders_service.orders.schemas import OrderOut


class ProfileController(Controller):
    path = "/api/customers"
    tags = ["Customers"]  # noqa: RUF012

    @get("/{customer_id:uuid}/profile", summary="Aggregates, status, age group, loyalty and favourites")
    async def get_profile(self, db_session: DbSession, customer_id: FromPath[UUID]) -> ProfileOut:
        return await services.profile(db_session, customer_id)

    @get("/{customer_id:uuid}/points", summary="The points ledger, oldest first, with the balance after each entry")
    async def list_points(
        self, db_session: DbSession, customer_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> Page[PointsEntryOut]:
        items, total = await services.points(db_session, customer_id, limit, offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @put(
        "/{customer_id:uuid}/tier-floor",
        guards=[admin_only],
        summary="Hold a customer at a tier or above whatever her spend (admin); null lifts the floor",
    )
    async def set_tier_floor(
        self,
        request: Request[Actor, Any, Any],
        db_session: DbSession,
        customer_id: FromPath[UUID],
        data: JSONBody[TierFloorIn],
    ) -> TierStateOut:
        state = await tier_services.set_floor(db_session, customer_id, data.manual_floor, request.user.id or "staff")
        return TierStateOut(
            tier=state.tier, manual_floor=state.manual_floor, since=state.since, review_at=state.review_at
        )

    @get("/{customer_id:uuid}/tier-history", summary="The customer's tier moves and floor changes, newest first")
    async def tier_history(
        self, db_session: DbSession, customer_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> Page[TierChangeOut]:
        rows, total = await tier_services.history(db_session, customer_id, limit, offset)
        items = [TierChangeOut(at=r.at, from_tier=r.from_tier, to_tier=r.to_tier, reason=r.reason) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{customer_id:uuid}/orders", summary="The customer's orders, newest first")
    async def list_orders(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        customer_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OrderOut]:
        rows, total = await services.orders_of(db_session, customer_id, limit, offset)
        merged = await loader.merged_from(db_session, [row.id for row in rows])
        warehouse = warehouse_of(request)
        items = [mapping.render(row, merged[row.id], warehouse) for row in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)


class SegmentController(Controller):
    path = "/api/segments"
    tags = ["Customers"]  # noqa: RUF012

    @get("/", summary="The segment rules and how many customers each holds now")
    async def list_segments(self, db_session: DbSession) -> list[SegmentOut]:
        return await segment_services.list_segments(db_session)

    @get("/{name:str}/customers", summary="The customers in a segment, oldest profile first")
    async def list_customers(
        self, db_session: DbSession, name: FromPath[str], limit: Limit = 50, offset: Offset = 0
    ) -> Page[CustomerOut]:
        rows, total = await segment_services.customers_in(db_session, name, limit, offset)
        return Page(items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset)
