"""The staff dashboard: server-rendered pages under /dashboard, signed in with a staff user's session."""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.middleware import DefineMiddleware

from orders_service.dashboard.auth_pages import AuthPages
from orders_service.dashboard.cod_pages import CodPages
from orders_service.dashboard.create_pages import CreatePages
from orders_service.dashboard.customer_data_pages import CustomerDataPages
from orders_service.dashboard.customer_pages import CustomerPages
from orders_service.dashboard.family_pages import FamilyPages
from orders_service.dashboard.i18n import LanguageMiddleware
from orders_service.dashboard.order_actions import GeoOptions, OrderActions
from orders_service.dashboard.order_list import OrderListPage
from orders_service.dashboard.order_page import OrderPage
from orders_service.dashboard.pages import EXCEPTION_HANDLERS, STATIC, TEMPLATES, not_found, template_config
from orders_service.dashboard.queues import QueuePages
from orders_service.dashboard.return_pages import ReturnPages
from orders_service.dashboard.sessions import SessionAuthentication
from orders_service.dashboard.settings_pages import SettingsPages

PAGES: list[Any] = [
    AuthPages,
    OrderListPage,
    CreatePages,
    OrderPage,
    OrderActions,
    GeoOptions,
    FamilyPages,
    QueuePages,
    ReturnPages,
    CodPages,
    CustomerPages,
    CustomerDataPages,
    SettingsPages,
]


def dashboard_router() -> Router:
    """Every page needs a session (the sign-in page excepted); errors are pages, a missing session a redirect."""
    return Router(
        path="/",
        route_handlers=PAGES,
        middleware=[LanguageMiddleware, DefineMiddleware(SessionAuthentication)],
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


__all__ = ["STATIC", "TEMPLATES", "dashboard_router", "not_found", "template_config"]
