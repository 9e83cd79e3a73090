"""The Litestar application: routes, database, authentication, problem details, OpenAPI."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, asgi
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.types import Receive, Scope, Send

from couriers.base import Courier
from notifications.policy import Channel
from notifications.providers import Provider
from orders_service.auth.controllers import KeyController
from orders_service.auth.middleware import ApiKeyAuthentication
from orders_service.catalogue.controllers import ProductController
from orders_service.cod.controllers import CodStatementController
from orders_service.customers.controllers import CustomerController
from orders_service.dashboard import STATIC, dashboard_router, not_found, template_config
from orders_service.deliveries.controllers import DeliveryController
from orders_service.geo import Warehouse
from orders_service.geo.controllers import AddressController, GeoController
from orders_service.imports.controllers import ImportController
from orders_service.infra.commit import CommitBeforeSending
from orders_service.infra.openapi import SCHEMA_PLUGINS, document_routes, swagger_ui
from orders_service.infra.outbox import on_committed
from orders_service.infra.problems import EXCEPTION_HANDLERS, http_error_handler
from orders_service.infra.redact import install_redaction
from orders_service.infra.runtime import build_runtime
from orders_service.infra.settings import Settings, secret_key
from orders_service.infra.strict_body import strict_json_body
from orders_service.links.controllers import EditLinkController, PublicOrderController
from orders_service.links.headers import LinkHeaders
from orders_service.links.pages import EditPageController, page_or
from orders_service.links.ratelimit import LinkLimiter
from orders_service.loyalty.controllers import ProfileController, SegmentController
from orders_service.loyalty.points import expire_points
from orders_service.loyalty.services import TierDiscount
from orders_service.loyalty.tier_services import review_tiers
from orders_service.messaging.birthdays import queue_birthdays
from orders_service.messaging.controllers import (
    CampaignController,
    ConsentController,
    NotificationController,
    UnsubscribeController,
)
from orders_service.ops.controllers import health, prometheus_metrics, ready
from orders_service.ops.middleware import RequestContext, echo_request_id
from orders_service.orders.controllers import OrderController
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.family_controllers import FamilyController
from orders_service.relay.embedded import Daily, Interval
from orders_service.relay.nudge import DispatchNudge
from orders_service.relay.threaded import embedded_relay
from orders_service.returns.controllers import ReturnRequestController
from orders_service.shipping.addresses import CourierAddressController
from orders_service.shipping.controllers import ShipController, WebhookController
from orders_service.shipping.quote_controllers import CourierController
from orders_service.shipping.reconcile import reconcile_shipments
from orders_service.shop_settings.accounts import load_courier_accounts

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
    r"^/u/",  # the unsubscribe link in marketing messages: the token is the key
    r"^/o/",  # the customer's edit page: the link's token is the key
    r"^/dashboard",  # its own sign-in: a staff user's session, not an API key
    r"^/static/",
]
# Form posts from pages carry a CSRF token; the JSON API (keys, link tokens, signed webhooks) does not need one,
# nor does unsubscribing: mail clients post it in one click without cookies (RFC 8058), and its token is the key.
CSRF_EXEMPT = ["/api", "/webhooks", "/sandbox-courier", "/health", "/ready", "/metrics", "/schema", "/static", "/u/"]


def create_app(
    settings: Settings | None = None,
    discounts: DiscountPolicy | None = None,
    couriers: Iterable[Courier] | None = None,
    providers: dict[Channel, Provider] | None = None,
) -> Litestar:
    """The service. `couriers` and `providers` replace the configured ones (tests pass ones wired to fakes)."""
    settings = settings or Settings.from_env()
    runtime = build_runtime(settings, couriers, providers=providers)
    # On its own thread (relay/threaded.py), or in this event loop.
    relay = embedded_relay(settings, runtime) if settings.relay == "embedded" else None
    # The embedded engine's periodic jobs: daily ones, and reconciliation every ORDERS_RECONCILE_S (celery beat
    # runs them as tasks instead).
    jobs = (
        [
            Daily("loyalty.expire", lambda: expire_points(runtime.db)),
            Daily("loyalty.review", lambda: review_tiers(runtime.db)),
            Daily("notifications.birthdays", lambda: queue_birthdays(runtime.db), every_s=3_600.0),
        ]
        if settings.relay == "embedded"
        else []
    )
    if settings.relay == "embedded" and settings.reconcile_s > 0:
        read_couriers = functools.partial(reconcile_shipments, runtime.db, runtime.couriers)
        jobs.append(Interval("couriers.reconcile", read_couriers, settings.reconcile_s))
    nudge = DispatchNudge(settings.broker_url, settings.celery_queue) if settings.relay == "celery" else None
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=runtime.engine,
        session_config=AsyncSessionConfig(expire_on_commit=False, info=runtime.info),
        # Only closes the session: CommitBeforeSending commits before the answer leaves (orders_service.infra.commit).
        before_send_handler=None,
        create_all=False,
        enable_file_object_listener=False,  # no model stores files (see NO_LISTENERS in infra/runtime.py)
    )
    handlers: list[Any] = [
        health,
        ready,
        prometheus_metrics,
        KeyController,
        CustomerController,
        ProductController,
        ImportController,
        ProfileController,
        SegmentController,
        OrderController,
        FamilyController,
        ShipController,
        CourierController,
        DeliveryController,
        ReturnRequestController,
        CodStatementController,
        WebhookController,
        GeoController,
        AddressController,
        CourierAddressController,
        NotificationController,
        ConsentController,
        CampaignController,
        UnsubscribeController,
        EditLinkController,
        PublicOrderController,
        EditPageController,
        dashboard_router(),
        create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
    ]
    if runtime.sandbox is not None:
        handlers.append(_mount(runtime.sandbox.app))

    limiter = LinkLimiter.from_settings(settings)

    async def start(app: Litestar) -> None:
        install_redaction()
        runtime.connect_sandbox_webhooks(app)
        if runtime.accounts is not None:  # accounts an admin saved in the dashboard override the environment's
            await load_courier_accounts(runtime.db, runtime.accounts)
        if relay is not None:
            await relay.start()
            on_committed(runtime.engine, relay.wake)
        for job in jobs:
            await job.start()
        if nudge is not None:
            on_committed(runtime.engine, nudge.wake)

    async def stop() -> None:
        for job in jobs:
            await job.stop()
        if relay is not None:
            await relay.stop()
        if nudge is not None:
            nudge.close()
        await limiter.window.aclose()
        await runtime.aclose()

    app = Litestar(
        route_handlers=handlers,
        plugins=[SQLAlchemyPlugin(config=db_config), *SCHEMA_PLUGINS],
        # The request's id first, so that everything after it, authentication included, logs with it.
        middleware=[
            RequestContext(),
            LinkHeaders,
            DefineMiddleware(ApiKeyAuthentication, exclude=PUBLIC_PATHS),
            CommitBeforeSending(db_config.session_scope_key),
        ],
        before_send=[echo_request_id],
        # No route matches /dashboard/orders/abc: the dashboard answers that with a page, the API with a problem.
        exception_handlers={
            **EXCEPTION_HANDLERS,
            NotFoundException: page_or(not_found),
            MethodNotAllowedException: page_or(http_error_handler),
        },
        before_request=strict_json_body,
        template_config=template_config(),
        csrf_config=CSRFConfig(
            secret=secret_key(settings),
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            exclude=CSRF_EXEMPT,
            cookie_secure=settings.public_base_url.startswith("https://"),
            cookie_samesite="strict",
        ),
        # The request's session (db_session, the SQLAlchemy plugin's) is the one dependency: constants are read
        # from here with infra/deps.py's accessors, since Litestar resolves several dependencies in a task group.
        state=State(
            {
                "settings": settings,
                "sessionmaker": runtime.db,
                "warehouse": Warehouse.in_province(settings.warehouse_province),
                "discounts": discounts or TierDiscount(),
                "couriers": runtime.couriers,
                "runtime": runtime,
                "relay": relay,
                "link_limiter": limiter,
            }
        ),
        openapi_config=OpenAPIConfig(
            title="orders-service",
            version="0.1.0",
            description="Amend, merge, split and ship cash-on-delivery orders. Money is integer VND. "
            "Every change needs If-Match with the order's ETag. Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[swagger_ui()],  # served from the package, no CDN
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
    document_routes(app, PUBLIC_PATHS)
    return app


def _mount(sandbox: Any) -> Any:
    @asgi("/sandbox-courier", is_mount=True, copy_scope=True, include_in_schema=False)
    async def sandbox_courier(scope: Scope, receive: Receive, send: Send) -> None:
        """The sandbox courier, a courier with its own HTTP API, served inside the service by default."""
        await sandbox(scope, receive, send)

    return sandbox_courier
