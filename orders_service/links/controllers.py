"""HTTP (JSON): staff issue and revoke edit links; the customer's JSON twin of the page under /api/public."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from orders_service.domain.model import Actor
from orders_service.infra.deps import DbSession, discounts_of, warehouse_of
from orders_service.infra.settings import Settings
from orders_service.links import readonly, services
from orders_service.links.ratelimit import link_rate_guard
from orders_service.links.schemas import EditLinkIn, EditLinkOut, PublicOrderOut, public_order
from orders_service.orders.controllers import ETAG_HEADER, IfMatch
from orders_service.orders.schemas import ActionIn, AmendmentIn
from orders_service.shop_settings.identity import shop_identity

StaffRequest = Request[Actor, Any, Any]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class EditLinkController(Controller):
    path = "/api/orders/{order_id:uuid}/edit-link"
    tags = ["Customer link"]  # noqa: RUF012

    @post("/", status_code=201, summary="Create a private link for the customer to change her order")
    async def create_link(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        data: JSONBody[EditLinkIn | None] = None,
    ) -> EditLinkOut:
        settings: Settings = request.app.state.settings
        ttl = data.ttl_hours if data and data.ttl_hours else settings.link_ttl_hours
        url, expires_at = await services.create_link(
            db_session, order_id, ttl, request.user, settings.public_base_url, _now()
        )
        return EditLinkOut(url=url, expires_at=expires_at)

    @delete("/", status_code=204, summary="Revoke every link of the order")
    async def revoke_links(self, request: StaffRequest, db_session: DbSession, order_id: FromPath[UUID]) -> None:
        await services.revoke_links(db_session, order_id, request.user, _now())


async def _answer(
    request: Request[Any, Any, Any],
    db_session: DbSession,
    row: Any,
    link: Any,
    order: Any = None,
) -> Response[PublicOrderOut]:
    read_only = row.status in readonly.READ_ONLY
    offers = {} if read_only else await services.offers(db_session, row)  # nothing to swap to once read-only
    body = public_order(row, warehouse_of(request), offers, link.expires_at, order)
    shop = await shop_identity(db_session, request.app.state.settings)
    body = await readonly.with_state(db_session, body, row, shop)
    return Response(content=body, headers={"ETag": f'"{row.version}"'})


class PublicOrderController(Controller):
    """Same rules as the page: 404 for an unknown, tampered or revoked token, 410 once expired or cancelled;
    after pickup or a merge a read-only view (`read_only: true`), where a change or cancel is a 409."""

    path = "/api/public/orders/{token:str}"
    tags = ["Customer link"]  # noqa: RUF012
    guards = [link_rate_guard]  # noqa: RUF012
    security = [{}]  # noqa: RUF012  (the token in the path is the credential)

    @get("/", response_headers=ETAG_HEADER, summary="The order behind a customer's link")
    async def get_order(
        self, request: Request[Any, Any, Any], db_session: DbSession, token: FromPath[str]
    ) -> Response[PublicOrderOut]:
        link, row = await services.open_link(db_session, token, _now(), to_change=False)
        return await _answer(request, db_session, row, link)

    @post(
        "/amendments",
        status_code=200,
        response_headers=ETAG_HEADER,
        summary="Amend through the link (If-Match required); ?dry_run=true shows the new amount without saving",
    )
    async def amend_order(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        token: FromPath[str],
        data: JSONBody[AmendmentIn],
        if_match: IfMatch = None,
        dry_run: FromQuery[bool] = False,
    ) -> Response[PublicOrderOut]:
        row, preview, link = await services.amend_by_link(
            db_session,
            token,
            if_match,
            data.domain_operations(),
            data.reason,
            discounts_of(request),
            _now(),
            dry_run=dry_run,
        )
        return await _answer(request, db_session, row, link, preview)

    @post("/cancel", status_code=200, response_headers=ETAG_HEADER, summary="Cancel the order (If-Match required)")
    async def cancel_order(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        token: FromPath[str],
        if_match: IfMatch = None,
        data: JSONBody[ActionIn | None] = None,
    ) -> Response[PublicOrderOut]:
        row, link = await services.cancel_by_link(db_session, token, if_match, data.reason if data else None, _now())
        answered = await _answer(request, db_session, row, link)
        if row.pending_cancel:  # 202: the courier holds a parcel; the cancel is done once it confirms
            answered.status_code = 202
        return answered
