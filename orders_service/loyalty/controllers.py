"""HTTP: a customer's profile, points ledger and order history; segments and their customers."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath

from orders_service.customers.schemas import CustomerOut
from orders_service.customers.services import to_out
from orders_service.deps import DbSession, WarehouseDep
from orders_service.loyalty import segment_services, services
from orders_service.loyalty.schemas import PointsEntryOut, ProfileOut, SegmentOut
from orders_service.orders import mapping
from orders_service.orders import services as orders
from orders_service.orders.schemas import OrderOut
from orders_service.pagination import Limit, Offset, Page


class ProfileController(Controller):
    path = "/api/customers"
    tags = ["Customers"]  # noqa: RUF012

    @get("/{customer_id:uuid}/profile", summary="Aggregates, status, age group, loyalty and favourites")
    async def get_profile(self, db_session: DbSession, customer_id: FromPath[UUID]) -> ProfileOut:
        return await services.profile(db_session, customer_id)

    @get("/{customer_id:uuid}/points", summary="The points ledger, oldest first, with the balance after each entry")
    async def list_points(self, db_session: DbSession, customer_id: FromPath[UUID]) -> list[PointsEntryOut]:
        return await services.points(db_session, customer_id)

    @get("/{customer_id:uuid}/orders", summary="The customer's orders, newest first")
    async def list_orders(
        self,
        db_session: DbSession,
        warehouse: WarehouseDep,
        customer_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OrderOut]:
        rows, total = await services.orders_of(db_session, customer_id, limit, offset)
        merged = await orders.merged_from(db_session, [row.id for row in rows])
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
