"""A browser-like client of the dashboard for integration tests: staff users, sign-in, forms with CSRF tokens."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.dashboard.users import Role, create_user
from orders_service.db.engine import create_engine
from orders_service.domain.model import Actor, ActorKind
from orders_service.loyalty.services import TierDiscount
from orders_service.orders.schemas import OrderIn
from orders_service.orders.services import create_order
from orders_service.settings import Settings
from tests.integration.api import order_payload

PASSWORD = "correct horse battery"
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def make_user(settings: Settings, username: str, role: str, password: str = PASSWORD) -> None:
    # Its own engine: the app's pool lives on the test client's event loop.
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await create_user(session, username, Role(role), password)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def another_browser(client: httpx.AsyncClient, app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second cookie jar on the same app: in-process (without a second lifespan), or over the same port."""
    if isinstance(client, AsyncTestClient):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url), timeout=30) as other:
            yield other
        return
    async with httpx.AsyncClient(base_url=str(client.base_url), timeout=30) as other:
        yield other


async def seed_orders(settings: Settings, count: int) -> None:
    """Many orders at once, through the same use case the API calls, in one transaction: fast to set up."""
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            for _ in range(count):
                data = msgspec.convert(order_payload(), OrderIn)
                await create_order(session, data, Actor(kind=ActorKind.STAFF, id="seed"), TierDiscount())
    finally:
        await engine.dispose()


class Dashboard:
    """Keeps cookies like a browser; posts forms with the CSRF token the last page carried."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        response = await self.client.get(path, follow_redirects=False, **kw)
        found = _CSRF_INPUT.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        if not self.token:
            await self.get("/dashboard/login")
        body = {**(data or {}), **({"_csrf_token": self.token} if csrf else {})}
        return await self.client.post(path, data=body, follow_redirects=False)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/dashboard/login")
        return await self.post("/dashboard/login", {"username": username, "password": password})
