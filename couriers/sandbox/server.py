"""The sandbox courier as an ASGI app: mounted at /sandbox-courier by the service, or served alone."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar, Router, asgi
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Receive, Scope, Send

from couriers.sandbox.routes import EXCEPTION_HANDLERS, ROUTES, require_token
from couriers.sandbox.rules import FeeTable
from couriers.sandbox.service import SandboxServerConfig, SandboxService

__all__ = ["MOUNT_PATH", "FeeTable", "SandboxServer", "SandboxServerConfig", "standalone_app"]

MOUNT_PATH = "/sandbox-courier"


class SandboxServer(SandboxService):
    """The courier's state, faults and webhook sender, with `.app` serving its API at paths relative to the mount."""

    def __init__(self, config: SandboxServerConfig, distance_km: Callable[[int, int], float]) -> None:
        super().__init__(config, distance_km)
        self.app = Litestar(
            # The guard sits on a router, not the app, so that the OpenAPI schema at /schema stays readable.
            route_handlers=[Router("/", route_handlers=ROUTES, guards=[require_token])],
            exception_handlers=EXCEPTION_HANDLERS,
            dependencies={"sandbox": Provide(self._itself, use_cache=True, sync_to_thread=False)},
            state=State({"sandbox": self}),
            openapi_config=OpenAPIConfig(
                title="sandbox courier",
                version="1.0.0",
                description="A courier with a real HTTP API for tests and benches. Money is integer VND.",
                path="/schema",
                components=Components(security_schemes={"token": SecurityScheme(type="http", scheme="bearer")}),
                security=[{"token": []}],
                # JSON only: Litestar's HTML renderers load their scripts from a CDN, blank with no network.
                render_plugins=[JsonRenderPlugin()],
            ),
            # Only runs when this app is served by itself: a mounting app must call `aclose` on its own shutdown.
            on_shutdown=[self.aclose],
            logging_config=None,  # the process that serves it decides how to log
            debug=False,
        )

    def _itself(self) -> SandboxService:
        return self


def standalone_app(server: SandboxServer) -> Litestar:
    """The same routes under /sandbox-courier, for `uvicorn` without the service around it."""

    @asgi(MOUNT_PATH, is_mount=True, copy_scope=True)
    async def sandbox_courier(scope: Scope, receive: Receive, send: Send) -> None:
        await server.app(scope, receive, send)

    return Litestar(
        route_handlers=[sandbox_courier],
        on_shutdown=[server.aclose],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
