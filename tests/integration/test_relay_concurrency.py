"""The relay's courier calls run side by side up to the courier's bound (ORDERS_COURIER_MAX_IN_FLIGHT), never
beyond it, and never two at once for one order: its messages are handled one run after the other."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from couriers.ghn import GhnConfig, GhnCourier
from couriers.limits import CallLimit
from fakes.ghn.server import FakeGhn
from orders_service.app import create_app
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import shop_from
from tests.integration.api import Api, Shipping
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_courier_hangs import send_to_ship
from tests.integration.test_ghn_ghtk_service import GHN_BASE, GHN_SHOP_ID, SECRET

pytestmark = pytest.mark.anyio
BOUND = 3


class Counting(httpx.AsyncBaseTransport):
    """The way to the fake GHN, counting the calls under way, in all and per order (an order is known by its
    code or its tracking code, in the URL or the body). Each call takes 0.5 s, so calls overlap: longer than the
    relay's look for more work (every 0.2 s), even when the ships trickle in on a busy machine."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.words = inner, set[str]()
        self.now, self.most, self.calls = 0, 0, 0
        self.per: Counter[str] = Counter()
        self.most_per_order = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        seen = str(request.url) + request.content.decode(errors="replace")
        mine = {word for word in self.words if word in seen}
        self.now, self.calls = self.now + 1, self.calls + 1
        self.most = max(self.most, self.now)
        for word in mine:
            self.per[word] += 1
            self.most_per_order = max(self.most_per_order, self.per[word])
        try:
            await asyncio.sleep(0.5)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1
            for word in mine:
                self.per[word] -= 1


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_calls_run_side_by_side_up_to_the_bound_and_one_at_a_time_per_order(
    settings: Settings, keys: dict[str, str]
) -> None:
    if settings.relay != "embedded":
        pytest.skip("the bound is this process's; the Celery engine's workers have their own")
    ghn = FakeGhn(shop_id=GHN_SHOP_ID)
    counting = Counting(httpx.ASGITransport(app=ghn.app))  # type: ignore[arg-type]
    config = GhnConfig(
        token=ghn.token, shop_id=GHN_SHOP_ID, shop=shop_from(settings), webhook_secret=SECRET, base_url=GHN_BASE
    )
    bounded = msgspec.structs.replace(settings, courier_max_in_flight=BOUND, relay_concurrency=8)  # more slots
    async with httpx.AsyncClient(transport=counting, base_url=GHN_BASE) as ghn_client:
        # The bound the registry lends the adapters it builds (courier_max_in_flight); one given is lent it here.
        courier = GhnCourier(config, ghn_client, CallLimit("GHN", BOUND))
        app = create_app(bounded, couriers=[courier])
        async with AsyncTestClient(app=app, timeout=30) as client:
            api = Api(client, keys["staff"], keys["admin"], app)
            shipping = Shipping(api)
            orders = [await api.create_order(courier="ghn") for _ in range(8)]
            counting.words = {o["code"] for o in orders}
            await asyncio.gather(*(send_to_ship(api, order) for order in orders))
            shipped = [await shipping.synced(o["id"], within_s=30) for o in orders]
            counting.words |= {o["shipment"]["tracking_code"] for o in shipped}
            # Edits of one order while the others' are under way: its runs follow one another (GHN takes two
            # changes of recipient per parcel).
            for name in ("An", "Binh"):
                for order in shipped[:4]:
                    response = await api.amend(order, {"op": "set_recipient", "name": f"{name} {order['code']}"})
                    assert response.status_code == 200, response.text
                    order.update(response.json())
            for order in shipped[:4]:
                await shipping.synced(order["id"], within_s=30)
    assert counting.most == BOUND, (counting.most, counting.calls)  # reached, never passed
    assert counting.most_per_order == 1
