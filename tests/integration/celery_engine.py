"""The integration suite once more at scale: PostgreSQL, Redis, and a real Celery worker and beat.

Each test process (xdist worker) starts one `orders-service worker` and one `orders-service beat` on its own
queue and database, for the whole session: starting them per test would cost seconds each. Tests get that
database emptied instead of a fresh clone, and the app under test is served on a real port (the same one
each time), because the worker reaches the sandbox courier over HTTP, as it does in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from couriers.sandbox.adapter import new_webhook_secret
from fakes.ghn.server import PREFIX as GHN_PREFIX
from orders_service.infra.settings import Settings
from orders_service.ops.clients import TrustedProxies
from tests.integration import databases as dbs
from tests.integration.processes import Processes, clean_env, free_port

REDIS_URL_ENV = "ORDERS_TEST_REDIS_URL"
# Every table emptied in one statement, one round trip (databases.EMPTY_TABLES).
EMPTY_TABLES = text(dbs.EMPTY_TABLES)


class CeleryEngine:
    def __init__(self, pg_url: str, template: str, redis_url: str, folder: Path) -> None:
        self.pg_url = pg_url
        settings, self.database = dbs.pg_clone(pg_url, template, folder / "worker-data")
        self.port = free_port()
        # GHN's address without an account: a test may serve a fake GHN there and save the account in the dashboard.
        self.ghn_port = free_port()
        self.env = clean_env(
            DATABASE_URL=settings.database_url,
            ORDERS_PORT=str(self.port),
            ORDERS_PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}",
            ORDERS_RELAY="celery",
            ORDERS_BROKER_URL=redis_url,
            ORDERS_CELERY_QUEUE=f"orders-test-{uuid.uuid4().hex[:8]}",
            ORDERS_RELAY_LEASE_S="10",
            # The tests are the proxy: each names its own client in X-Forwarded-For (rate limits live in Redis).
            ORDERS_TRUSTED_PROXIES="127.0.0.1",
            ORDERS_LEASE_RENEW_S="4",  # at least twice per lease; courier calls end before it (settings.check_timing)
            ORDERS_COURIER_TIMEOUT_S="3",
            ORDERS_SANDBOX_TOKEN=secrets.token_urlsafe(24),
            ORDERS_SANDBOX_WEBHOOK_SECRET=new_webhook_secret(),
            ORDERS_GHN_BASE_URL=f"http://127.0.0.1:{self.ghn_port}{GHN_PREFIX}",
            **dbs.TEST_ENV,
        )
        self.processes = Processes({**self.env, "ORDERS_DATA_DIR": str(folder / "worker-data")}, folder)

    def start(self) -> None:
        self.processes.start("worker", "worker", "--concurrency", "1", "--loglevel", "WARNING")
        self.processes.start("beat", "beat", "--loglevel", "WARNING")

    def stop(self) -> None:
        self.processes.stop()
        dbs.pg_drop(self.pg_url, self.database)

    def settings(self, data_dir: Path) -> Settings:
        """The app under test: the shared database and broker, its own data folder (the sandbox's parcels)."""
        return Settings.from_env({**self.env, "ORDERS_DATA_DIR": str(data_dir)})

    def reset(self) -> None:
        """Empty every table; messages still queued for the last test find nothing and do nothing."""
        asyncio.run(self._truncate())

    async def _truncate(self) -> None:
        engine = create_async_engine(self.env["DATABASE_URL"])
        try:
            for attempt in range(5):
                try:
                    async with engine.begin() as connection:
                        await connection.execute(EMPTY_TABLES)
                    return
                except DBAPIError:  # a deadlock with the worker finishing the last test's message: again
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.1)
        finally:
            await engine.dispose()


@contextlib.asynccontextmanager
async def served(app: Litestar, port: int) -> AsyncIterator[None]:
    """Serve `app` on 127.0.0.1:`port` in this event loop, for as long as the block runs."""
    # Forwarded headers believed as `serve` believes them: from ORDERS_TRUSTED_PROXIES only.
    settings = app.state.get("settings")  # the service's; a courier's fake has none
    proxies = TrustedProxies(settings.trusted_proxies if settings else ()).uvicorn_options()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1, **proxies
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"the app did not start on port {port}")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
