"""Sign in and out of the dashboard."""

from __future__ import annotations

import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from orders_service.dashboard.i18n import gettext
from orders_service.dashboard.pages import form_of, local_time, one, page
from orders_service.dashboard.sessions import COOKIE, LIFETIME, sign_in, sign_out
from orders_service.dashboard.users import LoginRefused
from orders_service.infra.deps import DbSession
from orders_service.infra.settings import Settings

HOME = "/dashboard/orders"


def _safe_next(target: str) -> str:
    """Only a dashboard page of this site: never an address elsewhere (an open redirect)."""
    if target.startswith("/dashboard") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        max_age=max_age,
    )


class AuthPages(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/", exclude_from_auth=True)
    async def home(self) -> Redirect:
        return Redirect(HOME, status_code=303)

    @get("/login", exclude_from_auth=True)
    async def login_form(self, next: FromQuery[str] = HOME) -> Template:
        return page("login.html", next=_safe_next(next))

    @post("/login", exclude_from_auth=True, status_code=303)
    async def login(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        form = await form_of(request)
        target = _safe_next(one(form, "next", HOME))
        settings: Settings = request.app.state.settings
        now = datetime.datetime.now(datetime.UTC)
        try:
            _, token = await sign_in(request.app.state.sessionmaker, one(form, "username"), one(form, "password"), now)
        except LoginRefused as refused:
            message = (
                gettext("Tài khoản tạm khoá sau nhiều lần sai mật khẩu, đến %(at)s.")
                % {"at": local_time(refused.locked_until)}
                if refused.locked_until
                else gettext("Sai tên đăng nhập hoặc mật khẩu.")
            )

            return page("login.html", 401, next=target, error=message, username=one(form, "username"))
        lifetime = int(LIFETIME.total_seconds())
        return Redirect(target, status_code=303, cookies=[_cookie(settings, token, lifetime)])

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], db_session: DbSession) -> Redirect:
        await sign_out(db_session, request.cookies.get(COOKIE))
        settings: Settings = request.app.state.settings
        return Redirect("/dashboard/login", status_code=303, cookies=[_cookie(settings, "", 0)])
