"""A courier call that never answers (issue 16, item 1): it fails its own message, which is retried with
backoff, while every other order, the other courier and the customers' messages keep flowing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from couriers.ghn import GhnConfig, GhnCourier
from couriers.ghtk import GhtkConfig, GhtkCourier
from fakes.ghn.server import FakeGhn
from fakes.ghtk.server import FakeGhtk
from orders_service.app import create_app
from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from orders_service.messaging.models import Notification
from orders_service.shipping.registry import shop_from
from tests.integration.api import Api, Shipping, eventually
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_ghn_ghtk_service import GHN_BASE, GHN_HOOK, GHN_SHOP_ID, GHTK_BASE, SECRET

pytestmark = pytest.mark.anyio
OTHER = {"ghn": "ghtk", "ghtk": "ghn"}


class Hang(httpx.AsyncBaseTransport):
    """The way to a fake courier, where every call that names one of `words` (an order's code, in the URL or
    the body) gets no answer until `release()`: as a courier that accepted the connection and went quiet. The
    fakes are in-process ASGI apps, which httpx's own timeouts do not reach: only the adapter's deadline can.
    The relay runs on the test client's own event loop (a thread): the hold is a flag it polls, as Gate does."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.words, self.held, self.calls = inner, set[str](), 0, 0

    def hold(self, word: str) -> None:
        self.words = {*self.words, word}

    def release(self) -> None:
        self.words = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        seen = str(request.url) + request.content.decode(errors="replace")
        if any(word in seen for word in self.words):
            self.held, self.calls = self.held + 1, self.calls + 1
            try:
                while any(word in seen for word in self.words):  # noqa: ASYNC110 - set from another thread
                    await asyncio.sleep(0.01)
            finally:
                self.held -= 1
        return await self.inner.handle_async_request(request)


@dataclass
class World:
    api: Api
    shipping: Shipping
    settings: Settings
    ghn: FakeGhn
    ghtk: FakeGhtk
    hangs: dict[str, Hang]

    def parcels(self, courier: str, code: str) -> int:
        if courier == "ghn":
            return sum(1 for o in self.ghn.orders.values() if o.client_order_code.split("-")[0] == code)
        return sum(1 for o in self.ghtk.orders.values() if o.partner_id.split("-")[0] == code)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@contextlib.asynccontextmanager
async def hanging_couriers(settings: Settings, keys: dict[str, str], timeout_s: float) -> AsyncIterator[World]:
    """The service with GHN and GHTK adapters (a call times out after `timeout_s`) behind Hang transports."""
    ghn, ghtk = FakeGhn(shop_id=GHN_SHOP_ID), FakeGhtk()
    hangs = {"ghn": Hang(httpx.ASGITransport(app=ghn.app)), "ghtk": Hang(ghtk.transport())}  # type: ignore[arg-type]
    shop = shop_from(settings)
    ghn_client = httpx.AsyncClient(transport=hangs["ghn"], base_url=GHN_BASE)
    ghtk_client = httpx.AsyncClient(transport=hangs["ghtk"], base_url=GHTK_BASE)
    ghn_config = GhnConfig(
        token=ghn.token, shop_id=GHN_SHOP_ID, shop=shop, webhook_secret=SECRET, base_url=GHN_BASE, timeout_s=timeout_s
    )
    ghtk_config = GhtkConfig(
        token=ghtk.token,
        partner_code=ghtk.partner_code,
        shop=msgspec.structs.replace(shop, phone="+84901112233"),  # the fake GHTK takes 10-digit numbers only
        webhook_secret=SECRET,
        base_url=GHTK_BASE,
        timeout_s=timeout_s,
    )
    couriers = [GhnCourier(ghn_config, ghn_client), GhtkCourier(ghtk_config, ghtk_client)]
    try:
        async with AsyncTestClient(app=create_app(settings, couriers=couriers), timeout=30) as client:
            api = Api(client, keys["staff"], keys["admin"], client.app)
            yield World(api, Shipping(api), settings, ghn, ghtk, hangs)
    finally:
        for hang in hangs.values():
            hang.release()  # calls still held end, before their clients close
        await ghn_client.aclose()
        await ghtk_client.aclose()


async def send_to_ship(api: Api, order: dict[str, Any]) -> None:
    path = f"/api/orders/{order['id']}"
    confirmed = await api.request("POST", f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'})
    assert confirmed.status_code == 200, confirmed.text
    shipped = await api.request("POST", f"{path}/ship", headers={"If-Match": f'"{confirmed.json()["version"]}"'})
    assert shipped.status_code == 200, shipped.text


async def read(settings: Settings, query: Any) -> list[Any]:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


async def messages_of(settings: Settings, order: dict[str, Any]) -> list[OutboxMessage]:
    return await read(settings, select(OutboxMessage).where(OutboxMessage.key == order["id"]))


@pytest.mark.parametrize("courier", ["ghn", "ghtk"])
async def test_a_call_that_never_answers_fails_its_message_only_and_is_retried(
    settings: Settings, keys: dict[str, str], courier: str
) -> None:
    async with hanging_couriers(settings, keys, timeout_s=1.0) as world:
        api, shipping, hang = world.api, world.shipping, world.hangs[courier]
        stuck = await api.create_order(courier=courier)
        hang.hold(stuck["code"])
        await send_to_ship(api, stuck)

        async def timed_out() -> bool:
            shipment = (await shipping.order(stuck["id"]))["shipment"]
            return "timed out" in (shipment["last_error"] or "")

        await eventually(timed_out)
        # Meanwhile, and while its later attempts hang again: other orders, at the same courier and the other.
        same = await shipping.ship(await api.create_order(courier=courier))
        other = await shipping.ship(await api.create_order(courier=OTHER[courier]))
        assert same["shipment"]["tracking_code"] and other["shipment"]["tracking_code"]
        assert hang.calls >= 1

        async def retried() -> bool:
            return any(m.attempts >= 2 and m.processed_at is None for m in await messages_of(world.settings, stuck))

        await eventually(retried)  # failed, due again after a backoff: neither done nor dead
        assert all(m.dead_at is None for m in await messages_of(world.settings, stuck))

        hang.release()
        final = await shipping.synced(stuck["id"], within_s=30)
        assert final["shipment"]["sync_state"] == "synced" and final["shipment"]["tracking_code"]
        assert world.parcels(courier, stuck["code"]) == 1


async def test_other_orders_couriers_and_messages_flow_while_a_call_hangs(
    settings: Settings, keys: dict[str, str]
) -> None:
    """The call hangs for longer than everything else takes (its timeout is far off): the rest cannot be
    waiting for it to time out. Only the hung order waits."""
    async with hanging_couriers(settings, keys, timeout_s=60.0) as world:
        api, shipping, hang = world.api, world.shipping, world.hangs["ghn"]
        stuck = await api.create_order(courier="ghn")
        hang.hold(stuck["code"])
        await send_to_ship(api, stuck)
        await eventually(lambda: _true(hang.held >= 1))

        same = await shipping.ship(await api.create_order(courier="ghn"))
        other = await shipping.ship(await api.create_order(courier="ghtk"))
        # A customer message: GHN picks the other order up, its webhook queues "on its way", the relay sends it.
        world.ghn.set_status(same["shipment"]["tracking_code"], "picked")
        for delivery in await world.ghn.deliver_webhooks(api.client, GHN_HOOK, attempts=1, interval_s=0):
            assert delivery.delivered

        async def sent() -> bool:
            query = select(Notification.status).where(Notification.order_id == uuid.UUID(same["id"]))
            return "sent" in await read(world.settings, query)

        await eventually(sent)
        assert other["shipment"]["sync_state"] == "synced"
        assert hang.held >= 1  # all of it while the stuck order's call still hangs
        assert (await shipping.order(stuck["id"]))["shipment"]["sync_state"] != "synced"

        hang.release()
        final = await shipping.synced(stuck["id"])
        assert world.parcels("ghn", stuck["code"]) == 1 and final["shipment"]["tracking_code"]


async def _true(value: bool) -> bool:
    return value
