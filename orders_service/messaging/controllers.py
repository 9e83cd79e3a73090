"""HTTP: the message list, a customer's consents, campaigns, and the public unsubscribe link."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from orders_service.domain.model import Actor
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page
from orders_service.infra.problems import PROBLEM_JSON, Problem
from orders_service.messaging import campaigns, services
from orders_service.messaging.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPreviewOut,
    CampaignState,
    ConsentsIn,
    ConsentsOut,
    NotificationOut,
)
from orders_service.messaging.schemas import Status as MessageStatus

StaffRequest = Request[Actor, Any, Any]
Token = Annotated[str, QueryParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ["Notifications"]  # noqa: RUF012

    @get(
        "/",
        summary="Messages, newest first, with their status and the reason a message was deferred, held or failed",
        description="A message deferred by quiet hours stays `queued` with `deferred_until` and its reason.",
    )
    async def list_notifications(
        self,
        db_session: DbSession,
        order_id: FromQuery[UUID | None] = None,
        customer_id: FromQuery[UUID | None] = None,
        status: FromQuery[MessageStatus | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[NotificationOut]:
        rows, total = await services.list_notifications(db_session, order_id, customer_id, status, limit, offset)
        return Page(items=[services.to_out(r) for r in rows], total=total, limit=limit, offset=offset)


class ConsentController(Controller):
    path = "/api/customers"
    tags = ["Notifications"]  # noqa: RUF012

    @get("/{customer_id:uuid}/consents", summary="What the customer agreed to hear, per channel and purpose")
    async def get_consents(self, db_session: DbSession, customer_id: FromPath[UUID]) -> ConsentsOut:
        return await services.consents(db_session, customer_id)

    @post(
        "/{customer_id:uuid}/consents",
        status_code=200,
        summary="Record consents given or withdrawn (withdrawing marketing is the staff-side opt-out)",
        description="Marketing needs `granted` on a channel; transactional messages go unless `withdrawn`.",
    )
    async def set_consents(
        self, db_session: DbSession, customer_id: FromPath[UUID], data: JSONBody[ConsentsIn]
    ) -> ConsentsOut:
        return await services.set_consents(db_session, customer_id, data)


CampaignKey = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
LOCATION = [ResponseHeader(name="Location", description="the campaign: GET it for progress", documentation_only=True)]


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ["Notifications"]  # noqa: RUF012

    @post(
        "/",
        status_code=202,
        response_headers=LOCATION,
        responses={
            200: ResponseSpec(
                CampaignOut | CampaignPreviewOut,
                description="A dry run's counts (no key needed, nothing written), or the campaign this key already "
                "started (sent again with the same request: nobody is reached twice)",
                generate_examples=False,
            ),
            422: ResponseSpec(
                Problem,
                description="An unknown segment, a promotion without its message, or a key already used with another "
                "segment, template or message: `errors` names the field",
                media_type=PROBLEM_JSON,
                generate_examples=False,
            ),
        },
        summary="Send a marketing message to a segment (202: accepted, sent in the background); "
        "`dry_run` counts who would get it and who not, and why (200)",
        description="A real send records the campaign and answers 202 with it and its `Location`; the relay then "
        "fixes the segment's members and queues their messages in short batches (GET the campaign for progress). "
        "Each customer gets it at most once per campaign `key`: the same key and request again answers 200 with "
        "the campaign it started; the same key with another segment, template or message is a 422 naming the "
        "field. The policy gate applies to each member when her batch is queued (no consent, opted out or over the "
        "cap: recorded as suppressed with the reason; quiet hours: deferred) and again at send time. A dry run "
        "writes nothing and answers 200 with the counts, the count per reason, and the first 100 suppressed.",
    )
    async def run_campaign(
        self, request: StaffRequest, db_session: DbSession, data: JSONBody[CampaignIn]
    ) -> Response[CampaignOut | CampaignPreviewOut]:
        if data.dry_run:
            return Response(await campaigns.preview(db_session, data), status_code=200)
        row, created = await campaigns.start_campaign(db_session, data, request.user.id or str(request.user.kind))
        return Response(
            campaigns.to_out(row),
            status_code=202 if created else 200,
            headers={"Location": f"{self.path}/{row.key}"},
        )

    @get("/", summary="Campaigns, newest first, with their state and counts")
    async def list_campaigns(
        self,
        db_session: DbSession,
        in_state: Annotated[CampaignState | None, QueryParameter(name="state", description="only these")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CampaignOut]:
        rows, total = await campaigns.list_campaigns(db_session, in_state, limit, offset)
        return Page(items=[campaigns.to_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @get(
        "/{key:str}",
        summary="A campaign's progress: its state and counts (processed out of recipients)",
        responses={
            404: ResponseSpec(
                Problem, description="No campaign has this key", media_type=PROBLEM_JSON, generate_examples=False
            )
        },
    )
    async def get_campaign(self, db_session: DbSession, key: CampaignKey) -> CampaignOut:
        return campaigns.to_out(await campaigns.get_campaign(db_session, key))


PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem">{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    return Response(PAGE.format(title=escape(title), body=body), media_type=MediaType.HTML, status_code=status)


class UnsubscribeController(Controller):
    path = "/u"
    tags = ["Notifications"]  # noqa: RUF012
    include_in_schema = True

    @get("/{token:str}", summary="The unsubscribe page of a marketing message (no key: the token is the key)")
    async def show(self, db_session: DbSession, token: FromPath[Token]) -> Response[str]:
        shop = escape(await services.unsubscribe(db_session, token, confirm=False))
        return _page(
            "Từ chối nhận tin",
            f"<h1>Từ chối nhận tin quảng cáo</h1><p>Quý khách sẽ không nhận tin khuyến mãi từ {shop} nữa. "
            "Tin về đơn hàng của quý khách vẫn được gửi.</p>"
            '<form method="post"><button type="submit">Xác nhận từ chối</button></form>',
        )

    @post("/{token:str}", status_code=200, summary="Unsubscribe from marketing (also RFC 8058 one-click)")
    async def confirm(self, db_session: DbSession, token: FromPath[Token]) -> Response[str]:
        shop = escape(await services.unsubscribe(db_session, token, confirm=True))
        return _page(
            "Đã từ chối nhận tin", f"<h1>Đã xong</h1><p>{shop} sẽ không gửi tin quảng cáo cho quý khách nữa.</p>"
        )
