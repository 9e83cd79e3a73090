"""HTTP: customers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from orders_service.auth.middleware import admin_only
from orders_service.customers import services
from orders_service.customers.export import export_customer
from orders_service.customers.merge import merge_customers
from orders_service.customers.privacy import erase_customer, update_customer
from orders_service.customers.schemas import (
    CustomerIn,
    CustomerMergeIn,
    CustomerOut,
    CustomerPatch,
    ErasureOut,
    MergePreviewOut,
)
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

    @patch(
        "/{customer_id:uuid}",
        summary="Change her name, email, birthday, gender, tags or note; a field left out stays, null clears it",
        description="Phones and identities change through their own rules (orders, the merge). Which fields changed "
        "is audited, not their values.",
    )
    async def update_customer(
        self,
        request: Request[Actor, Any, Any],
        db_session: DbSession,
        customer_id: FromPath[UUID],
        data: JSONBody[CustomerPatch],
    ) -> CustomerOut:
        return services.to_out(await update_customer(db_session, customer_id, data, request.user))

    @get(
        "/{customer_id:uuid}/export",
        summary="Everything held about her, as JSON (Decree 13/2023); audited",
        description="Her profile and the duplicates merged into it, consents, orders with lines, events, returns and "
        "parcels, the points ledger, tier and tier history, the messages sent to her, merges and this audit.",
    )
    async def export_customer(
        self, request: Request[Actor, Any, Any], db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Response[dict[str, Any]]:
        document = await export_customer(db_session, customer_id, request.user)
        disposition = f'attachment; filename="customer-{customer_id}.json"'
        return Response(document, headers={"Content-Disposition": disposition})

    @post(
        "/{customer_id:uuid}/erase",
        status_code=200,
        guards=[admin_only],
        summary="Erase her personal data everywhere, orders included (admin); money, events and the ledger stay",
        description="Names, phones, emails, buyer ids, addresses, notes and message texts become placeholders; her "
        "links stop working. An order in the courier's hands or still open is a 409 naming it. Erasing twice answers "
        "the first erasure.",
    )
    async def erase_customer(
        self, request: Request[Actor, Any, Any], db_session: DbSession, customer_id: FromPath[UUID]
    ) -> ErasureOut:
        return await erase_customer(db_session, customer_id, request.user)

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
