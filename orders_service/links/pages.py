"""HTML: the customer's page at /o/{token}, server-rendered, working with plain form posts (JS only enhances)."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException, TooManyRequestsException
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.domain.model import OrderStatus
from orders_service.domain.money import compute_totals
from orders_service.infra import clock
from orders_service.infra.deps import DbSession, Discounts, WarehouseDep
from orders_service.infra.settings import Settings
from orders_service.links import flow, i18n
from orders_service.links.ratelimit import link_rate_guard
from orders_service.links.rules import LinkExpired, LinkNotFound
from orders_service.links.views import message_context, page_context
from orders_service.shipping import window

_MAX_FIELDS = 400  # lines x 2 + a dozen: far more than any order's form


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _lang(request: Request[Any, Any, Any]) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def _cookies(request: Request[Any, Any, Any], lang: str) -> list[Cookie]:
    if request.query_params.get("lang") != lang:
        return []
    return [Cookie(key=i18n.COOKIE, value=lang, max_age=365 * 86400, samesite="lax", httponly=True)]


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted fields, one text value each (files and repeated names are not part of this form)."""
    form = await request.form()
    return {k: v for k, v in list(form.items())[:_MAX_FIELDS] if isinstance(v, str)}


async def _free_until(session: AsyncSession, view: flow.PageView, settings: Settings) -> datetime.datetime | None:
    """Until when her changes come before any courier order (the edit window), while that is still ahead."""
    if view.row.status not in (OrderStatus.PENDING, OrderStatus.CONFIRMED) or view.row.shipment is not None:
        return None
    until = await window.hold_until(session, view.row.id, await window.window_minutes(session, settings))
    return until if until is not None and until > clock.now() else None


async def _page(
    request: Request[Any, Any, Any], view: flow.PageView, warehouse: Any, session: AsyncSession | None = None
) -> Template:
    lang = _lang(request)
    settings: Settings = request.app.state.settings
    base = "/o/" + str(request.path_params["token"])
    free_until = await _free_until(session, view, settings) if session is not None else None
    return Template(
        template_name="public/order.html",
        context=page_context(view, base, lang, settings, warehouse, free_until),
        status_code=view.status_code,
        cookies=_cookies(request, lang),
    )


def _message(
    request: Request[Any, Any, Any], kind: str, status: int, headers: dict[str, str] | None = None
) -> Template:
    lang = _lang(request)
    return Template(
        template_name="public/message.html",
        context=message_context(kind, lang, request.app.state.settings),
        status_code=status,
        headers=headers,
    )


def _not_found(request: Request[Any, Any, Any], _: Exception) -> Template:
    return _message(request, "notfound", 404)


def _expired(request: Request[Any, Any, Any], _: Exception) -> Template:
    return _message(request, "expired", 410)


def _busy(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Template:
    return _message(request, "busy", 429, dict(exc.headers or {}))


def _forbidden(request: Request[Any, Any, Any], _: Exception) -> Template:
    return _message(request, "csrf", 403)


class Quote(msgspec.Struct):
    """The live preview's answer: the new amount to pay on delivery, or why the change cannot be made."""

    ok: bool
    cod_amount: int | None = None
    text: str | None = None
    error: str | None = None


class EditPageController(Controller):
    path = "/o/{token:str}"
    include_in_schema = False
    guards = [link_rate_guard]  # noqa: RUF012
    exception_handlers = {  # noqa: RUF012
        LinkNotFound: _not_found,
        LinkExpired: _expired,
        TooManyRequestsException: _busy,
        PermissionDeniedException: _forbidden,
    }

    @get("/")
    async def show(
        self, request: Request[Any, Any, Any], db_session: DbSession, warehouse: WarehouseDep, token: FromPath[str]
    ) -> Template:
        return await _page(request, await flow.show(db_session, token, _now()), warehouse, db_session)

    @post("/", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        warehouse: WarehouseDep,
        discounts: Discounts,
        token: FromPath[str],
    ) -> Template:
        view = await flow.submit(db_session, token, await _form(request), discounts, _now())
        return await _page(request, view, warehouse, db_session)

    @post("/cancel", status_code=200)
    async def cancel(
        self, request: Request[Any, Any, Any], db_session: DbSession, warehouse: WarehouseDep, token: FromPath[str]
    ) -> Template:
        return await _page(request, await flow.cancel(db_session, token, await _form(request), _now()), warehouse)

    @post("/quote", status_code=200)
    async def quote(
        self, request: Request[Any, Any, Any], db_session: DbSession, discounts: Discounts, token: FromPath[str]
    ) -> Response[Quote]:
        """The page's script asks this as she edits: the form's change, previewed (never saved)."""
        form = {k: v for k, v in (await _form(request)).items() if k != "action"}
        view = await flow.submit(db_session, token, form, discounts, _now())
        lang = _lang(request)
        if view.preview is None:
            error = next(iter(view.errors), "changed")
            return Response(Quote(ok=False, error=error), status_code=200)
        cod = compute_totals(view.preview).cod_amount
        return Response(Quote(ok=True, cod_amount=cod, text=i18n.vnd(cod, lang)))
