"""Twenty customers order the last three dresses at once: three orders, seventeen 409s, no stock below zero.

The app is served on a real port (the in-process test client runs one request at a time), so on PostgreSQL
the requests run side by side on their own connections; on SQLite they queue for the writer. Either way the
reservation is one conditional UPDATE whose row count decides, so the count is exact.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.api import Api, order_payload
from tests.integration.celery_engine import served
from tests.integration.conftest import DATABASES, engine_settings, make_keys

pytestmark = pytest.mark.anyio

BUYERS = 20
LAST = 3


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """The app on a real port, and a client that sends requests side by side."""
    keys = await make_keys(settings)
    app, port = create_app(settings), free_port()
    limits = httpx.Limits(max_connections=BUYERS)
    async with (
        served(app, port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as c,
    ):
        yield Api(c, keys["staff"], keys["admin"], app)


async def test_twenty_concurrent_orders_for_the_last_three(api: Api) -> None:
    product = {
        "sku": "DRESS-LAST",
        "name": "Đầm cuối",
        "weight_g": 300,
        "variants": [{"size": "M", "color": "red", "price": 450000, "stock": LAST}],
    }
    assert (await api.request("POST", "/api/products", json=product)).status_code == 201
    line = {"sku": "DRESS-LAST", "name": "Đầm cuối", "size": "M", "color": "red", "quantity": 1}
    answers: list[httpx.Response] = []

    async def buy() -> None:
        answers.append(await api.request("POST", "/api/orders", json=order_payload(lines=[line])))

    async with anyio.create_task_group() as group:
        for _ in range(BUYERS):
            group.start_soon(buy)

    statuses = Counter(response.status_code for response in answers)
    assert statuses == {201: LAST, 409: BUYERS - LAST}, [r.text for r in answers if r.status_code not in (201, 409)]
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.json()["type"].endswith("/out-of-stock")
        assert refused.json()["errors"][0]["field"] == "lines[0]"
    variant = (await api.request("GET", "/api/products/DRESS-LAST")).json()["variants"][0]
    assert (variant["stock"], variant["reserved"], variant["available"]) == (LAST, LAST, 0)
    orders = (await api.request("GET", "/api/orders")).json()
    assert orders["total"] == LAST
