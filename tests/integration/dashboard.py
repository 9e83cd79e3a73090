"""A browser-like client of the dashboard for integration tests: staff users, sign-in, forms with CSRF tokens."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.dashboard.users import Role, create_user
from orders_service.db.engine import create_engine
from orders_service.db.models import Order, OutboxMessage, Shipment
from orders_service.domain.model import Actor, ActorKind
from orders_service.infra.settings import Settings
from orders_service.loyalty.services import TierDiscount
from orders_service.orders.schemas import OrderIn
from orders_service.orders.services import create_order
from tests.integration.api import eventually, order_payload

PASSWORD = "correct horse battery"
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def make_user(settings: Settings, username: str, role: str, password: str = PASSWORD) -> None:
    # Its own engine (the app's pool lives on the test client's event loop), patient with the app's writers
    # on a machine whose cores other test runs share.
    engine = create_engine(msgspec.structs.replace(settings, sqlite_busy_timeout_ms=30_000), poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await create_user(session, username, Role(role), password)
    finally:
        await engine.dispose()


async def seed_orders(settings: Settings, count: int) -> None:
    """Many orders at once, through the same use case the API calls, in one transaction: fast to set up."""
    engine = create_engine(msgspec.structs.replace(settings, sqlite_busy_timeout_ms=30_000), poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            for _ in range(count):
                data = msgspec.convert(order_payload(), OrderIn)
                await create_order(session, data, Actor(kind=ActorKind.STAFF, id="seed"), TierDiscount())
    finally:
        await engine.dispose()


async def put_in_state(settings: Settings, order: dict[str, Any], **shipment: Any) -> None:
    """Leave the order as a courier's report would (a partial delivery, or a refused change), once the relay
    is done with the order's creation: a shipment it found unsynced, it would create at the courier."""
    await eventually(lambda: unprocessed(settings, order))
    engine = create_engine(settings, poolclass=NullPool)
    order_id = uuid.UUID(order["id"])
    try:
        async with AsyncSession(engine) as session, session.begin():
            if shipment:
                session.add(Shipment(order_id=order_id, courier="sandbox", client_code=order["code"], **shipment))
            else:
                await session.execute(update(Order).where(Order.id == order_id).values(status="needs_review"))
    finally:
        await engine.dispose()


async def unprocessed(settings: Settings, order: dict[str, Any]) -> bool:
    """True when the relay has handled every message about the order."""
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            query = select(OutboxMessage.id).where(
                OutboxMessage.key == order["id"], OutboxMessage.processed_at.is_(None)
            )
            return (await session.scalar(query)) is None
    finally:
        await engine.dispose()


class Dashboard:
    """A browser of its own: its own cookies (on a client other browsers may share: the app runs once, in
    the test client's loop), and forms posted with the CSRF token the last page carried."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.jar = httpx.Cookies()
        self.token = ""

    async def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        self.client.cookies = self.jar
        try:
            return await self.client.request(method, path, follow_redirects=False, **kw)
        finally:
            self.jar = self.client.cookies

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        response = await self._send("GET", path, **kw)
        found = _CSRF_INPUT.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        if not self.token:
            await self.get("/dashboard/login")
        body = {**(data or {}), **({"_csrf_token": self.token} if csrf else {})}
        return await self._send("POST", path, data=body)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/dashboard/login")
        return await self.post("/dashboard/login", {"username": username, "password": password})


async def signed_in(settings: Settings, client: httpx.AsyncClient, username: str, role: str) -> Dashboard:
    """A new user of `role`, signed in on a browser of her own."""
    await make_user(settings, username, role)
    dashboard = Dashboard(client)
    assert (await dashboard.login(username)).status_code == 303
    return dashboard
