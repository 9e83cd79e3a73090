"""What a process needs to run the relay handlers: database sessions and couriers (the sandbox when embedded)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from couriers.base import Courier
from couriers.sandbox.adapter import SandboxConfig, SandboxCourier, new_webhook_secret
from couriers.sandbox.server import SandboxServer, SandboxServerConfig
from notifications.policy import Channel
from notifications.providers import Provider
from orders_service.auth.services import key_check
from orders_service.db.engine import create_engine
from orders_service.geo import province_centroid
from orders_service.infra.settings import Settings
from orders_service.loyalty.program import PROGRAM_KEY, ProgramSource
from orders_service.messaging.config import NOTIFY_KEY, NotifySource
from orders_service.messaging.providers import build_providers
from orders_service.relay.core import Handler
from orders_service.relay.handlers import build_handlers
from orders_service.shipping.registry import EXTERNAL, CourierRegistry
from orders_service.shipping.requote import REQUOTE_KEY, Requoter
from orders_service.shop_settings.accounts import ACCOUNTS_KEY, CourierAccounts

IN_PROCESS = "http://orders-service.internal"


class InProcessTransport(httpx.ASGITransport):
    """An ASGI transport that keeps the client's read timeout, as a socket would: a stuck app times out."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            with anyio.fail_after(timeout):
                return await super().handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {timeout} s", request=request) from None


def _secrets(settings: Settings) -> dict[str, str]:
    """The sandbox's token and webhook secret: from the environment, else made once and kept in the data folder."""
    given = settings.couriers.get("sandbox", {})
    path = settings.data_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if not {"sandbox_token", "sandbox_webhook_secret"} <= stored.keys():
        stored = {"sandbox_token": secrets.token_urlsafe(24), "sandbox_webhook_secret": new_webhook_secret(), **stored}
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(stored, file)
    return {
        "token": given.get("token", stored["sandbox_token"]),
        "webhook_secret": given.get("webhook_secret", stored["sandbox_webhook_secret"]),
    }


def _distance_km(origin: int, destination: int) -> float:
    from geopy.distance import geodesic

    return float(geodesic(province_centroid(origin), province_centroid(destination)).km)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        couriers: CourierRegistry,
        sandbox: SandboxServer | None,
        providers: dict[Channel, Provider] | None = None,
        accounts: CourierAccounts | None = None,
    ) -> None:
        self.settings, self.engine, self.couriers, self.sandbox = settings, engine, couriers, sandbox
        self.accounts = accounts  # None when the couriers were given (tests): nothing saved replaces those
        self.providers = providers if providers is not None else build_providers(settings.notify)
        # Sessions carry the loyalty program (the environment's, overridden by what an admin saved in the
        # dashboard) and the notification rules, in the API and the workers alike.
        self.program = ProgramSource(settings)
        self.info = session_info(settings, self.program)  # the app's request sessions share it
        if accounts is not None:  # and the GHN/GHTK accounts, re-read the same way
            self.info[ACCOUNTS_KEY] = accounts
        # An amendment's new address is re-quoted with the order's courier (shipping/requote.py).
        self.info[REQUOTE_KEY] = Requoter(couriers, settings.warehouse_province, settings.quote_timeout_s)
        self.db: async_sessionmaker[AsyncSession] = async_sessionmaker(engine, expire_on_commit=False, info=self.info)
        self.handlers: dict[str, Handler] = build_handlers(
            self.db, couriers, settings.sync_lease_s, self.providers, settings.lease_renew_s
        )
        self.clients: list[httpx.AsyncClient] = []  # in-process transports we made, closed with the runtime

    def connect_sandbox_webhooks(self, app: Any) -> None:
        """Embedded: the sandbox calls our webhook endpoint in-process, as a courier would over HTTP."""
        if self.sandbox is not None:
            transport = InProcessTransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url=IN_PROCESS, timeout=self.sandbox.webhook_timeout())
            self.clients.append(client)
            self.sandbox.set_webhook_client(client)

    async def aclose(self) -> None:
        await self.couriers.aclose()
        for provider in self.providers.values():
            await provider.aclose()
        for client in self.clients:
            await client.aclose()
        if self.sandbox is not None:
            await self.sandbox.aclose()
        await self.engine.dispose()


# advanced-alchemy's cache and file-object listeners run on every commit and flush; we use neither, and without
# these keys each of them asks the engine for its execution options, which builds a copy of the engine each time.
NO_LISTENERS = {"enable_cache_listener": False, "enable_file_object_listener": False}


def session_info(settings: Settings, program: ProgramSource | None = None) -> dict[str, Any]:
    return {PROGRAM_KEY: program or ProgramSource(settings), NOTIFY_KEY: NotifySource(settings.notify), **NO_LISTENERS}


def standalone_sandbox(settings: Settings) -> SandboxServer:
    """The sandbox courier as its own process (several API replicas share one courier, as with a real one).

    Its webhooks go to `ORDERS_SANDBOX_WEBHOOK_URL`, else to the service's public URL. Its test driver takes the
    service's API keys, checked in the service's database (a connection per check: drivers are few).
    """
    keys = _secrets(settings)
    engine = create_engine(settings, poolclass=NullPool)
    default_url = f"{settings.public_base_url}/webhooks/couriers/sandbox"
    return SandboxServer(
        SandboxServerConfig(
            token=keys["token"],
            webhook_secret=keys["webhook_secret"],
            webhook_url=settings.couriers.get("sandbox", {}).get("webhook_url", default_url),
            store_path=Path(settings.data_dir) / "sandbox-courier.json",
            driver_key=key_check(async_sessionmaker(engine)),
        ),
        _distance_km,
    )


def build_runtime(
    settings: Settings,
    couriers: Iterable[Courier] | None = None,
    *,
    embed_sandbox: bool = True,
    providers: dict[Channel, Provider] | None = None,
    **engine_options: Any,
) -> Runtime:
    """Couriers given (tests) are used as they are; else GHN/GHTK from settings and what an admin saved over
    them, and the sandbox."""
    engine = create_engine(settings, **engine_options)
    registry = CourierRegistry(
        {c.name: c for c in couriers or ()},
        max_in_flight=settings.courier_max_in_flight,
        timeouts={name: settings.courier_timeout(name) for name in ("sandbox", *EXTERNAL)},
    )
    sandbox: SandboxServer | None = None
    client: httpx.AsyncClient | None = None
    accounts: CourierAccounts | None = None
    if couriers is None:
        accounts = CourierAccounts(settings, registry)
        keys = _secrets(settings)
        base_url = settings.couriers.get("sandbox", {}).get("base_url")
        if base_url is None and embed_sandbox and settings.sandbox:
            sandbox = SandboxServer(
                SandboxServerConfig(
                    token=keys["token"],
                    webhook_secret=keys["webhook_secret"],
                    webhook_url=f"{IN_PROCESS}/webhooks/couriers/sandbox",
                    store_path=Path(settings.data_dir) / "sandbox-courier.json",
                    driver_key=key_check(async_sessionmaker(engine)),
                ),
                _distance_km,
            )
            base_url = "http://sandbox.internal"  # the sandbox's own routes, without the mount prefix
            client = httpx.AsyncClient(transport=InProcessTransport(app=sandbox.app), base_url=base_url)  # type: ignore[arg-type]
        if settings.sandbox:  # off: no sandbox courier to ship with either
            config = SandboxConfig(
                base_url=base_url or f"{settings.public_base_url}/sandbox-courier",
                token=keys["token"],
                webhook_secret=keys["webhook_secret"],
                origin_province=settings.warehouse_province,
                timeout_s=settings.courier_timeout("sandbox"),
            )
            registry.add(SandboxCourier(config, client, limit=registry.limit("sandbox")))
    runtime = Runtime(settings, engine, registry, sandbox, providers, accounts)
    if client is not None:
        runtime.clients.append(client)
    if accounts is not None:
        registry.on_refresh(lambda: accounts.reread(runtime.db))
    return runtime
