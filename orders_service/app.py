"""The Litestar application: routes, database, authentication, problem details, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, asgi
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Receive, Scope, Send

from couriers.base import Courier
from orders_service.auth.controllers import KeyController
from orders_service.auth.middleware import ApiKeyAuthentication
from orders_service.customers.controllers import CustomerController
from orders_service.deliveries.controllers import DeliveryController
from orders_service.geo import Warehouse
from orders_service.geo_controllers import GeoController
from orders_service.loyalty.controllers import ProfileController, SegmentController
from orders_service.loyalty.points import expire_points
from orders_service.loyalty.program import PROGRAM_KEY, program_from
from orders_service.loyalty.services import TierDiscount
from orders_service.ops.controllers import health, prometheus_metrics, ready
from orders_service.ops.middleware import RequestContext, echo_request_id
from orders_service.orders.controllers import OrderController
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.family_controllers import FamilyController
from orders_service.outbox import on_committed
from orders_service.problems import EXCEPTION_HANDLERS
from orders_service.relay.embedded import Daily, EmbeddedRelay
from orders_service.relay.nudge import DispatchNudge
from orders_service.runtime import build_runtime
from orders_service.settings import Settings
from orders_service.shipping.addresses import CourierAddressController
from orders_service.shipping.controllers import ShipController, WebhookController
from orders_service.strict_body import strict_json_body

# The API needs a key, except what a customer, an address picker, a probe or a scraper reads without one
# (/metrics is for the internal network only: firewall it, see the README).
PUBLIC_PATHS = [
    r"^/health$",
    r"^/ready$",
    r"^/metrics$",
    r"^/schema",
    r"^/api/public/",
    r"^/api/geo/",
    r"^/webhooks/",
    r"^/sandbox-courier",
]


def create_app(
    settings: Settings | None = None,
    discounts: DiscountPolicy | None = None,
    couriers: Iterable[Courier] | None = None,
) -> Litestar:
    """The service. `couriers` replaces the configured ones (tests pass adapters wired to fakes)."""
    settings = settings or Settings.from_env()
    runtime = build_runtime(settings, couriers)
    relay = (
        EmbeddedRelay(runtime.db, runtime.handlers, backoff_s=settings.relay_backoff_s)
        if settings.relay == "embedded"
        else None
    )
    # The embedded engine's daily jobs (celery beat runs them as tasks instead).
    daily = [Daily("loyalty.expire", lambda: expire_points(runtime.db))] if settings.relay == "embedded" else []
    nudge = DispatchNudge(settings.broker_url, settings.celery_queue) if settings.relay == "celery" else None
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=runtime.engine,
        session_config=AsyncSessionConfig(expire_on_commit=False, info={PROGRAM_KEY: program_from(settings)}),
        before_send_handler="autocommit",
        create_all=False,
    )
    policy = discounts or TierDiscount()
    warehouse = Warehouse.in_province(settings.warehouse_province)
    handlers: list[Any] = [
        health,
        ready,
        prometheus_metrics,
        KeyController,
        CustomerController,
        ProfileController,
        SegmentController,
        OrderController,
        FamilyController,
        ShipController,
        DeliveryController,
        WebhookController,
        GeoController,
        CourierAddressController,
    ]
    if runtime.sandbox is not None:
        handlers.append(_mount(runtime.sandbox.app))

    async def start(app: Litestar) -> None:
        runtime.connect_sandbox_webhooks(app)
        if relay is not None:
            await relay.start()
            on_committed(runtime.engine, relay.wake)
        for job in daily:
            await job.start()
        if nudge is not None:
            on_committed(runtime.engine, nudge.wake)

    async def stop() -> None:
        for job in daily:
            await job.stop()
        if relay is not None:
            await relay.stop()
        if nudge is not None:
            nudge.close()
        await runtime.aclose()

    return Litestar(
        route_handlers=handlers,
        plugins=[SQLAlchemyPlugin(config=db_config)],
        # The request's id first, so that everything after it, authentication included, logs with it.
        middleware=[RequestContext(), DefineMiddleware(ApiKeyAuthentication, exclude=PUBLIC_PATHS)],
        before_send=[echo_request_id],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=strict_json_body,
        dependencies={
            "discounts": Provide(lambda: policy, use_cache=True, sync_to_thread=False),
            "sessionmaker": Provide(lambda: runtime.db, use_cache=True, sync_to_thread=False),
            "warehouse": Provide(lambda: warehouse, use_cache=True, sync_to_thread=False),
        },
        state=State(
            {
                "settings": settings,
                "sessionmaker": runtime.db,
                "couriers": runtime.couriers,
                "runtime": runtime,
                "relay": relay,
            }
        ),
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
        # Logging is the process's (orders_service.ops.logs: JSON or text, redacted), not Litestar's own handlers.
        logging_config=None,
        on_startup=[start],
        on_shutdown=[stop],
        debug=False,
    )


def _mount(sandbox: Any) -> Any:
    @asgi("/sandbox-courier", is_mount=True, copy_scope=True, include_in_schema=False)
    async def sandbox_courier(scope: Scope, receive: Receive, send: Send) -> None:
        """The sandbox courier, a courier with its own HTTP API, served inside the service by default."""
        await sandbox(scope, receive, send)

    return sandbox_courier
