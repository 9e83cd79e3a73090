"""Admin settings: the shop's name, phone, address and public URL; loyalty tiers and points, courier accounts
(secrets masked), notification quiet hours, and which courier ships when staff choose none."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.response import Redirect, Template

from orders_service.dashboard.pages import DashboardRequest, FormProblem, convert, form_of, one, page, problem_of
from orders_service.dashboard.services import reread_after_commit
from orders_service.dashboard.sessions import admins_only
from orders_service.domain.errors import DomainError
from orders_service.infra.deps import DbSession
from orders_service.infra.settings import Settings
from orders_service.loyalty.program import PROGRAM_KEY
from orders_service.messaging.config import NOTIFY_KEY
from orders_service.shop_settings import services
from orders_service.shop_settings.accounts import ACCOUNTS_KEY
from orders_service.shop_settings.identity import SHOP
from orders_service.shop_settings.schemas import (
    CourierAccount,
    LoyaltyRules,
    NotificationRules,
    ShippingRules,
    ShopContact,
)


async def settings_context(session: DbSession, settings: Settings) -> dict[str, Any]:
    current = await services.effective(session, settings)
    couriers = {
        name: {**msgspec.to_builtins(account), **{s: services.mask(getattr(account, s)) for s in services.SECRETS}}
        for name, account in current[services.COURIERS].items()
    }
    return {**current, "couriers_shown": couriers}


async def save_step(session: DbSession, request: DashboardRequest, group: str) -> Template | Redirect:
    form = await form_of(request)
    settings: Settings = request.app.state.settings
    values = {k: one(form, k) for k in form if k != "_csrf_token"}
    now, by = datetime.datetime.now(datetime.UTC), request.user.username
    try:
        if group == services.LOYALTY:
            await services.save(session, group, convert(values, LoyaltyRules), by, now)
            reread_after_commit(session, PROGRAM_KEY)
        elif group == SHOP:
            await services.save(session, group, convert(values, ShopContact), by, now)
            reread_after_commit(session, NOTIFY_KEY)  # messages take the shop's name and URL from it
        elif group == services.NOTIFICATIONS:
            await services.save(session, group, convert(values, NotificationRules), by, now)
            reread_after_commit(session, NOTIFY_KEY)
        elif group == services.SHIPPING:  # read by each ship, nothing cached to reread
            await services.save(session, group, convert(values, ShippingRules), by, now)
        else:
            given = {
                name: convert(
                    {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(f"{name}.")}, CourierAccount
                )
                for name in services.ACCOUNTS
            }
            await services.save_couriers(session, settings, given, by, now)
            reread_after_commit(session, ACCOUNTS_KEY)
    except DomainError as error:
        problem: FormProblem = problem_of(error)
        context = await settings_context(session, settings)
        return page("settings.html", problem.status, problem=problem, group=group, **context)
    return Redirect(f"/dashboard/settings?saved={group}", status_code=303)


class SettingsPages(Controller):
    path = "/dashboard/settings"
    include_in_schema = False
    guards = [admins_only]  # noqa: RUF012

    @get("/")
    async def show(self, request: DashboardRequest, db_session: DbSession) -> Template:
        context = await settings_context(db_session, request.app.state.settings)
        return page("settings.html", saved=request.query_params.get("saved"), **context)

    @post(["/shop", "/loyalty", "/couriers", "/notifications", "/shipping"], status_code=200)
    async def save(self, request: DashboardRequest, db_session: DbSession) -> Template | Redirect:
        return await save_step(db_session, request, request.url.path.rsplit("/", 1)[-1])
