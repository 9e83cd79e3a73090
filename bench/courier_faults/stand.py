"""The service under test, in process, with its GHN and GHTK adapters wired to the fakes through a faulty way.

Everything is in one event loop: the API (Litestar's test client), the embedded relay, and the fakes (ASGI apps
behind `Faults` transports). The database is a fresh SQLite file or PostgreSQL database with the real migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from couriers.ghn import GhnConfig, GhnCourier
from couriers.ghtk import GhtkConfig, GhtkCourier
from fakes.ghn.server import FakeGhn
from fakes.ghtk.server import FakeGhtk
from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.db.migrate import upgrade
from orders_service.db.models import OutboxMessage, StaffAlert
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import shop_from

GHN_BASE, GHTK_BASE, GHN_SHOP = "http://ghn.fake/shiip/public-api", "http://ghtk.fake", 885_001
COURIERS = ("ghn", "ghtk")
MOBILES = ("090", "091", "093", "097", "098", "086")


class Faults(httpx.AsyncBaseTransport):
    """The way to one fake courier. Calls that name a word (an order's code, in the URL or body) are faulty
    while the word is listed: answered `delay_s` late, or (delay None) not at all until the word is cleared; or
    (`late`) carried out by the courier at once and answered `delay_s` late, so a caller that gives up first never
    learns that it happened.
    The service runs on the test client's own event loop (a thread): a hang is a flag that loop polls."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.words: dict[str, float | None] = {}
        self.after: dict[str, float] = {}  # word -> delay of the answer, after the courier acted
        self.calls = 0  # every call through this way
        self.faulty = 0  # calls that met a fault

    def hang(self, word: str) -> None:
        self.words = {**self.words, word: None}

    def slow(self, word: str, delay_s: float) -> None:
        self.words = {**self.words, word: delay_s}

    def late(self, word: str, delay_s: float) -> None:
        self.after = {**self.after, word: delay_s}

    def clear(self) -> None:
        self.words, self.after = {}, {}

    def _fault(self, seen: str) -> float | bool | None:
        return next((delay for word, delay in self.words.items() if word in seen), False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        seen = str(request.url) + request.content.decode(errors="replace")
        fault = self._fault(seen)
        if fault is not False:
            self.faulty += 1
            if fault is None:
                while self._fault(seen) is None:  # noqa: ASYNC110 - set from another thread's loop
                    await asyncio.sleep(0.01)
            else:
                await asyncio.sleep(float(fault))
        response = await self.inner.handle_async_request(request)
        late = next((delay for word, delay in self.after.items() if word in seen), None)
        if late is not None:
            self.faulty += 1
            await asyncio.sleep(late)
        return response


@dataclass
class Stand:
    client: httpx.AsyncClient
    key: str
    settings: Settings
    ghn: FakeGhn
    ghtk: FakeGhtk
    faults: dict[str, Faults]
    relay: Any
    made: list[str] = field(default_factory=list)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    async def create_order(self, courier: str, **extra: Any) -> dict[str, Any]:
        """A pending order; `extra` adds fields (`customer_id` in place of a new customer, `prepaid`)."""
        phone = random.choice(MOBILES) + "".join(random.choice("0123456789") for _ in range(7))
        body: dict[str, Any] = {
            "customer": {"full_name": "Nguyễn Thị Lan", "phones": [phone]},
            "channel": "website",
            "courier": courier,
            "recipient": {
                "name": "Nguyễn Thị Lan",
                "phones": [phone],
                "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
            },
            "lines": [{"sku": "DRESS-01", "name": "Đầm hoa", "unit_price": 450000, "quantity": 1}],
            "shipping": {"fee": 30000, "payer": "customer"},
        }
        if "customer_id" in extra:
            del body["customer"]
        body.update(extra)
        response = await self.client.post("/api/orders", json=body, headers=self.headers())
        response.raise_for_status()
        order: dict[str, Any] = response.json()
        self.made.append(order["id"])
        return order

    async def ship(self, order: dict[str, Any]) -> None:
        path = f"/api/orders/{order['id']}"
        confirmed = await self.client.post(
            f"{path}/confirm", headers=self.headers(**{"If-Match": f'"{order["version"]}"'})
        )
        confirmed.raise_for_status()
        version = confirmed.json()["version"]
        shipped = await self.client.post(f"{path}/ship", headers=self.headers(**{"If-Match": f'"{version}"'}))
        shipped.raise_for_status()

    async def post(self, path: str, body: dict[str, Any], version: int | None = None) -> httpx.Response:
        extra = {} if version is None else {"If-Match": f'"{version}"'}
        return await self.client.post(path, json=body, headers=self.headers(**extra))

    async def events(self, order_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/orders/{order_id}/events", headers=self.headers())
        response.raise_for_status()
        return list(response.json())

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/orders/{order_id}", headers=self.headers())
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    async def synced(self, order_id: str) -> bool:
        order = await self.order(order_id)
        shipment = order["shipment"]
        return bool(shipment) and shipment["sync_state"] == "synced" and shipment["synced_version"] == order["version"]

    async def wait_synced(self, order_id: str, within_s: float) -> float | None:
        """Seconds until the order is synced (polled every 50 ms), or None if it was not within `within_s`."""
        started = time.monotonic()
        while time.monotonic() - started < within_s:
            if await self.synced(order_id):
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        return None

    async def messages(self, key: str) -> list[OutboxMessage]:
        # Its own engine: the app's pool lives on the test client's event loop, not this one.
        engine = create_engine(self.settings, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session:
                return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)))
        finally:
            await engine.dispose()

    async def alerts(self, order_id: str) -> list[str]:
        """The kinds of the order's staff alerts, oldest first."""
        engine = create_engine(self.settings, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session:
                query = select(StaffAlert.kind).where(StaffAlert.order_id == uuid.UUID(order_id))
                return list(await session.scalars(query.order_by(StaffAlert.id)))
        finally:
            await engine.dispose()

    def parcels(self, courier: str, code: str) -> int:
        if courier == "ghn":
            return sum(1 for o in self.ghn.orders.values() if o.client_order_code.split("-")[0] == code)
        return sum(1 for o in self.ghtk.orders.values() if o.partner_id.split("-")[0] == code)


async def _staff_key(settings: Settings) -> str:
    engine = create_engine(settings)
    try:
        async with AsyncSession(engine) as session, session.begin():
            _, key = await create_key(session, "courier-fault-bench", Role.STAFF)
        return key
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def stand(env: dict[str, str], data_dir: Path, timeout_s: float) -> AsyncIterator[Stand]:
    """The service on the database `env` names, migrated; adapters time out after `timeout_s`."""
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(data_dir), **env})
    await asyncio.to_thread(upgrade, settings)
    key = await _staff_key(settings)
    ghn, ghtk = FakeGhn(shop_id=GHN_SHOP), FakeGhtk()
    faults = {"ghn": Faults(httpx.ASGITransport(app=ghn.app)), "ghtk": Faults(ghtk.transport())}  # type: ignore[arg-type]
    shop = shop_from(settings)
    ghn_client = httpx.AsyncClient(transport=faults["ghn"], base_url=GHN_BASE)
    ghtk_client = httpx.AsyncClient(transport=faults["ghtk"], base_url=GHTK_BASE)
    couriers = [
        GhnCourier(
            GhnConfig(
                token=ghn.token, shop_id=GHN_SHOP, shop=shop, webhook_secret="s", base_url=GHN_BASE, timeout_s=timeout_s
            ),
            ghn_client,
        ),
        GhtkCourier(
            GhtkConfig(
                token=ghtk.token,
                partner_code=ghtk.partner_code,
                shop=msgspec.structs.replace(shop, phone="+84901112233"),  # the fake takes 10-digit numbers only
                webhook_secret="s",
                base_url=GHTK_BASE,
                timeout_s=timeout_s,
            ),
            ghtk_client,
        ),
    ]
    app = create_app(settings, couriers=couriers)
    try:
        async with AsyncTestClient(app=app, timeout=60) as client:
            yield Stand(client, key, settings, ghn, ghtk, faults, app.state.relay)
    finally:
        for way in faults.values():
            way.clear()
        await ghn_client.aclose()
        await ghtk_client.aclose()
