"""HTTP: import a courier's COD statement (JSON or its CSV), list statements, read one with its classified rows."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from couriers.capabilities import COURIERS
from orders_service.cod import listing, services
from orders_service.cod.schemas import REFERENCE, StatementOut, StatementSummaryOut
from orders_service.cod.upload import StatementUpload, read_upload
from orders_service.domain.model import Actor
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page
from orders_service.infra.problems import PROBLEM_JSON, Problem

StaffRequest = Request[Actor, Any, Any]
COURIER = "^(" + "|".join(COURIERS) + ")$"
CourierQuery = Annotated[
    str | None, QueryParameter(pattern=COURIER, description="a CSV in our own format: whose statement it is")
]
CourierFilter = Annotated[str | None, QueryParameter(pattern=COURIER, description="only this courier's")]
ReferenceQuery = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, pattern=REFERENCE, description="the courier's own id of the statement"),
]
LOCATION = [ResponseHeader(name="Location", description="the statement", documentation_only=True)]


class CodStatementController(Controller):
    path = "/api/cod-statements"
    tags = ["COD statements"]  # noqa: RUF012

    @post(
        "/",
        status_code=201,
        response_headers=LOCATION,
        operation_class=StatementUpload,
        responses={
            200: ResponseSpec(
                StatementOut,
                description="The same statement was imported before (the same parcels and amounts, or the same "
                "courier `reference`): that statement, unchanged",
                generate_examples=False,
            ),
            413: ResponseSpec(Problem, description="Too large", media_type=PROBLEM_JSON, generate_examples=False),
        },
        summary="Import a courier's COD statement: each parcel matched, mismatched (with why) or unknown",
        description="JSON `{courier, rows: [{tracking_code, cod_collected, fee}], reference?}`, or a CSV: ours "
        "(`tracking_code,cod_collected,fee`, the courier in `?courier=` or the form), GHN's or GHTK's export "
        "(told apart by its header; the README lists the columns read). Each row is `matched` (the courier "
        "collected what the order says was due), `mismatch` (with `expected` and an `explanation` from the "
        "order's events and what the courier acknowledged), or `unknown` (no order has that tracking code at "
        "that courier). A parcel an earlier statement listed is flagged `already_on` and not counted again. "
        "Importing the same statement again answers 200 with the first import and changes nothing. A cell that "
        "cannot be read is a 422 naming its line and column.",
    )
    async def import_statement(
        self,
        request: StaffRequest,
        db_session: DbSession,
        courier: CourierQuery = None,
        reference: ReferenceQuery = None,
    ) -> Response[StatementOut]:
        upload = await read_upload(request, courier, reference)
        by = request.user.id or str(request.user.kind)
        row, created = await services.import_statement(
            db_session, upload.courier, upload.rows, upload.source, upload.reference, by
        )
        return Response(
            await listing.statement_out(db_session, row),
            status_code=201 if created else 200,
            headers={"Location": f"{self.path}/{row.id}"},
        )

    @get("/", summary="COD statements, newest first, with their totals (no rows)")
    async def list_statements(
        self,
        db_session: DbSession,
        courier: CourierFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[StatementSummaryOut]:
        rows, total = await listing.list_statements(db_session, courier, limit, offset)
        return Page(items=[listing.summary_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/{statement_id:uuid}", summary="A COD statement with its rows as classified when it was imported")
    async def get_statement(self, db_session: DbSession, statement_id: FromPath[UUID]) -> StatementOut:
        return await listing.statement_out(db_session, await listing.get_statement(db_session, statement_id))
