"""HTTP: the message list, a customer's consents, campaigns, and the public unsubscribe link."""

from __future__ import annotations

from html import escape
from typing import Annotated
from uuid import UUID

from litestar import Controller, MediaType, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from orders_service.deps import DbSession
from orders_service.notifications_app import services
from orders_service.notifications_app.schemas import CampaignIn, CampaignOut, ConsentsIn, ConsentsOut, NotificationOut
from orders_service.notifications_app.schemas import Status as MessageStatus
from orders_service.pagination import Limit, Offset, Page

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


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ["Notifications"]  # noqa: RUF012

    @post(
        "/",
        status_code=200,
        summary="Send a marketing message to a segment; `dry_run` counts who would get it and who not, and why",
        description="Each customer gets it at most once per campaign `key`; the policy gate still applies at send "
        "time (quiet hours defer, the cap and missing consent suppress).",
    )
    async def run_campaign(self, db_session: DbSession, data: JSONBody[CampaignIn]) -> CampaignOut:
        return await services.run_campaign(db_session, data)


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
