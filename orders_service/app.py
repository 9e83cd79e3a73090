"""The Litestar application: routes, database, authentication, problem details, OpenAPI."""

from __future__ import annotations

from typing import Any

import msgspec
from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, get
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.auth.controllers import KeyController
from orders_service.auth.middleware import ApiKeyAuthentication
from orders_service.customers.controllers import CustomerController
from orders_service.db.engine import create_engine
from orders_service.deps import Sessionmaker
from orders_service.geo import Warehouse
from orders_service.geo_controllers import GeoController
from orders_service.orders.controllers import OrderController
from orders_service.orders.discounts import DiscountPolicy, NoDiscount
from orders_service.problems import EXCEPTION_HANDLERS
from orders_service.settings import Settings

# The API needs a key, except what a customer, an address picker or a probe reads without one.
PUBLIC_PATHS = [r"^/health$", r"^/ready$", r"^/schema", r"^/api/public/", r"^/api/geo/"]


class Health(msgspec.Struct):
    status: str


@get("/health", tags=["Operations"], summary="Liveness")
async def health() -> Health:
    return Health(status="ok")


@get("/ready", tags=["Operations"], summary="Readiness: the database answers")
async def ready(sessionmaker: Sessionmaker) -> Health:
    async with sessionmaker() as session:
        await session.execute(text("SELECT 1"))
    return Health(status="ready")


def create_app(settings: Settings | None = None, discounts: DiscountPolicy | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = create_engine(settings)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit",
        create_all=False,
    )
    policy = discounts or NoDiscount()
    warehouse = Warehouse.in_province(settings.warehouse_province)
    return Litestar(
        route_handlers=[health, ready, KeyController, CustomerController, OrderController, GeoController],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        middleware=[DefineMiddleware(ApiKeyAuthentication, exclude=PUBLIC_PATHS)],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies={
            "discounts": Provide(lambda: policy, use_cache=True, sync_to_thread=False),
            "sessionmaker": Provide(lambda: sessionmaker, use_cache=True, sync_to_thread=False),
            "warehouse": Provide(lambda: warehouse, use_cache=True, sync_to_thread=False),
        },
        state=_state(settings, sessionmaker),
        openapi_config=OpenAPIConfig(
            title="orders-service",
            version="0.1.0",
            description="Amend, merge, split and ship cash-on-delivery orders. Money is integer VND. "
            "Every change needs If-Match with the order's ETag. Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin()],
            components=Components(
                security_schemes={"apiKey": SecurityScheme(type="http", scheme="bearer", description="API key")}
            ),
            security=[{"apiKey": []}],
        ),
        on_shutdown=[engine.dispose],
        debug=False,
    )


def _state(settings: Settings, sessionmaker: async_sessionmaker[Any]) -> Any:
    from litestar.datastructures import State

    return State({"settings": settings, "sessionmaker": sessionmaker})
