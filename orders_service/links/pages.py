"""HTML: the customer's page at /o/{token}, server-rendered, working with plain form posts (JS only enhances)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, PermissionDeniedException, TooManyRequestsException
from litestar.params import FromPath
from litestar.response import Template

from orders_service.infra import clock
from orders_service.infra.deps import DbSession, discounts_of, warehouse_of
from orders_service.infra.i18n import LanguageMiddleware, language_of
from orders_service.infra.settings import Settings
from orders_service.links import flow, i18n, readonly
from orders_service.links.ratelimit import link_rate_guard
from orders_service.links.rules import LinkExpired, LinkNotFound, LinkReadOnly
from orders_service.links.schemas import public_order
from orders_service.links.views import AmountRow, amount_rows, message_context, page_context, read_only_context
from orders_service.returns import page as return_page
from orders_service.shipping import window
from orders_service.shop_settings.identity import SHOP, ShopIdentity, identity_of
from orders_service.shop_settings.services import SHIPPING, shipping_of, stored_groups

_MAX_FIELDS = 400  # lines x 2 + a dozen: far more than any order's form


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _lang(request: Request[Any, Any, Any]) -> str:
    """As on the dashboard: `?lang=` (remembered in a cookie by LanguageMiddleware), the cookie, Accept-Language."""
    return language_of(request)


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted fields, one text value each (files and repeated names are not part of this form)."""
    form = await request.form()
    return {k: v for k, v in list(form.items())[:_MAX_FIELDS] if isinstance(v, str)}


async def _page(
    request: Request[Any, Any, Any],
    view: flow.PageView,
    session: Any,
    returns: return_page.ReturnForm | None = None,
) -> Template:
    lang = _lang(request)
    settings: Settings = request.app.state.settings
    warehouse = warehouse_of(request)
    # The shop and its edit window, saved by an admin, in one read.
    stored = await stored_groups(session, (SHOP, SHIPPING)) if session is not None else {}
    shop = request.app.state.shop_identity = identity_of(settings, stored.get(SHOP))  # error pages show it too
    base = "/o/" + str(request.path_params["token"])
    if view.read_only:
        after = await readonly.successor(session, view.row) if view.row.status == "merged" else None
        if returns is None and session is not None:
            returns = await return_page.for_page(session, view.row, settings.return_window_days, clock.now())
        shown = return_page.context(returns, lang, lambda amount: i18n.vnd(amount, lang))
        name, context = "public/readonly.html", read_only_context(view, after, lang, shop, warehouse, shown, base)
    else:
        minutes = shipping_of(settings, stored.get(SHIPPING)).edit_window_minutes
        free_until = await window.free_until(session, view.row, settings, minutes) if session is not None else None
        context = page_context(view, base, lang, settings, warehouse, free_until, shop=shop)
        name = "public/order.html"
    context["home"] = base  # the language switch opens her page, also from the answer to a cancel
    return Template(template_name=name, context=context, status_code=view.status_code)


def _shop(request: Request[Any, Any, Any]) -> ShopIdentity:
    """The shop on pages shown without a database session (errors): the environment's, or the last one read."""
    settings: Settings = request.app.state.settings
    return getattr(request.app.state, "shop_identity", None) or identity_of(settings, None)


def _message(
    request: Request[Any, Any, Any], kind: str, status: int, headers: dict[str, str] | None = None
) -> Template:
    lang = _lang(request)
    context = message_context(kind, lang, request.app.state.settings, shop=_shop(request))
    token = request.path_params.get("token")
    context["home"] = f"/o/{token}" if isinstance(token, str) else request.url.path
    return Template(
        template_name="public/message.html",
        context=context,
        status_code=status,
        headers=headers,
    )


def _not_found(request: Request[Any, Any, Any], _: Exception) -> Template:
    return _message(request, "notfound", 404)


def _expired(request: Request[Any, Any, Any], _: Exception) -> Template:
    return _message(request, "expired", 410)


def _busy(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Template:
    return _message(request, "busy", 429, dict(exc.headers or {}))


def page_or(handler: Callable[[Request[Any, Any, Any], Any], Response[Any]]) -> Any:
    """An address under /o/ that no route takes (a mistyped path, a method the page has not): the page's "link not
    valid" in her language, with the status kept; any other address goes to `handler` (a page or the API's problem).
    App-level, because no route, and so none of this controller's handlers, matched."""

    def handle(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        if request.url.path.startswith("/o/"):
            return _message(request, "notfound", exc.status_code)
        return handler(request, exc)

    return handle


def _forbidden(request: Request[Any, Any, Any], _: Exception) -> Template:
    return _message(request, "csrf", 403)


class Quote(msgspec.Struct):
    """The live preview's answer: the new amount to pay on delivery and every line of it now and after the
    change (the page's table, as text), or the field that stops the change."""

    ok: bool
    cod_amount: int | None = None
    text: str | None = None
    rows: list[AmountRow] | None = None
    error: str | None = None


class EditPageController(Controller):
    path = "/o/{token:str}"
    include_in_schema = False
    guards = [link_rate_guard]  # noqa: RUF012
    middleware = [LanguageMiddleware]  # noqa: RUF012
    exception_handlers = {  # noqa: RUF012
        LinkNotFound: _not_found,
        LinkExpired: _expired,
        TooManyRequestsException: _busy,
        PermissionDeniedException: _forbidden,
    }

    @get("/")
    async def show(self, request: Request[Any, Any, Any], db_session: DbSession, token: FromPath[str]) -> Template:
        return await _page(request, await flow.show(db_session, token, _now()), db_session)

    @post("/", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        token: FromPath[str],
    ) -> Template:
        try:
            view = await flow.submit(db_session, token, await _form(request), discounts_of(request), _now())
        except LinkReadOnly:
            view = await flow.refused(db_session, token, _now())
        return await _page(request, view, db_session)

    @post("/cancel", status_code=200)
    async def cancel(self, request: Request[Any, Any, Any], db_session: DbSession, token: FromPath[str]) -> Template:
        try:
            view = await flow.cancel(db_session, token, await _form(request), _now())
        except LinkReadOnly:
            view = await flow.refused(db_session, token, _now())
        return await _page(request, view, db_session)

    @post("/return", status_code=200)
    async def ask_return(
        self, request: Request[Any, Any, Any], db_session: DbSession, token: FromPath[str]
    ) -> Template:
        """After delivery: she asks to return some of what she kept (the form below her order's items)."""
        days = request.app.state.settings.return_window_days
        _, returns = await return_page.ask(db_session, token, await _form(request), days, _now(), clock.now())
        view = await flow.show(db_session, token, _now())
        view.status_code = returns.status_code
        return await _page(request, view, db_session, returns)

    @post("/quote", status_code=200)
    async def quote(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        token: FromPath[str],
    ) -> Response[Quote]:
        """The page's script asks this as she edits: the form's change, previewed (never saved)."""
        form = {k: v for k, v in (await _form(request)).items() if k != "action"}
        try:
            view = await flow.submit(db_session, token, form, discounts_of(request), _now())
        except LinkReadOnly:
            return Response(Quote(ok=False, error="read_only"), status_code=200)
        lang = _lang(request)
        if view.preview is None:
            error = next(iter(view.errors), "changed")
            return Response(Quote(ok=False, error=error), status_code=200)
        warehouse = warehouse_of(request)
        now = public_order(view.row, warehouse, view.offers, view.link.expires_at)
        after = public_order(view.row, warehouse, view.offers, view.link.expires_at, view.preview)
        rows = amount_rows(now, after, lang)
        return Response(Quote(ok=True, cod_amount=after.cod_amount, text=i18n.vnd(after.cod_amount, lang), rows=rows))
