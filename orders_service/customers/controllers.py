"""HTTP: customers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from orders_service.customers import services
from orders_service.customers.merge import merge_customers
from orders_service.customers.schemas import CustomerIn, CustomerMergeIn, CustomerOut, MergePreviewOut
from orders_service.domain.model import Actor
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page, phone_query, text_query


class CustomerController(Controller):
    path = "/api/customers"
    tags = ["Customers"]  # noqa: RUF012

    @post("/", summary="Create a customer; a phone that already has a profile is a 409 naming it")
    async def create_customer(self, db_session: DbSession, data: JSONBody[CustomerIn]) -> CustomerOut:
        return services.to_out(await services.create_customer(db_session, data))

    @post(
        "/merge",
        status_code=201,
        summary="Merge duplicate profiles of one person into one; ?dry_run=true previews it (200) without saving",
        description="Phones, identities, orders, the points ledger and tier history move to `into`; the tier is "
        "re-evaluated on the combined ledger. The duplicates are kept, marked `merged_into`, and the merge is "
        "audited.",
    )
    async def merge_customers(
        self,
        request: Request[Actor, Any, Any],
        db_session: DbSession,
        data: JSONBody[CustomerMergeIn],
        dry_run: FromQuery[bool] = False,
    ) -> Response[CustomerOut | MergePreviewOut]:
        into, preview = await merge_customers(db_session, data, request.user, dry_run=dry_run)
        if dry_run:
            return Response(preview, status_code=200)
        return Response(services.to_out(into), status_code=201)

    @get("/{customer_id:uuid}", summary="Get a customer")
    async def get_customer(self, db_session: DbSession, customer_id: FromPath[UUID]) -> CustomerOut:
        return services.to_out(await services.get_customer(db_session, customer_id))

    @get("/", summary="Search customers by any phone form or by name (accent-insensitive)")
    async def search_customers(
        self,
        db_session: DbSession,
        phone: Annotated[str | None, phone_query("any phone form")] = None,
        q: Annotated[str | None, text_query(120, "words of the name")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CustomerOut]:
        rows, total = await services.search_customers(db_session, phone=phone, q=q, limit=limit, offset=offset)
        return Page(items=[services.to_out(r) for r in rows], total=total, limit=limit, offset=offset)
