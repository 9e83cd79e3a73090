"""A request cut off before it answers (a client's timeout, a shutdown) leaves nothing held behind it.

The embedded sandbox courier sends its webhooks through an in-process client that gives up after its read
timeout, as a courier's HTTP client does. A webhook whose handler was cut off inside its write transaction
kept its session open until garbage collection: on SQLite the write lock and the process's writer turn, on
PostgreSQL the locks of its rows. Every retry of the same webhook then waited for it, and failed in turn; so
did the relay (a CI run lost a whole parcel event to this after one slow moment of the machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from orders_service.infra.runtime import IN_PROCESS, InProcessTransport
from orders_service.infra.settings import Settings
from orders_service.shipping import services
from tests.integration.api import Api, Shipping, eventually
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
CUT_S = 1.0  # the courier's read timeout in these tests


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """SQLite and PostgreSQL: what the request leaves held is the database's; the relay's engine does not matter."""
    yield from engine_settings(request, tmp_path)


async def test_a_webhook_cut_off_mid_transaction_holds_nothing_and_its_retry_lands(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipping = Shipping(api)
    order = await shipping.ship(await api.create_order())
    impatient = httpx.AsyncClient(transport=InProcessTransport(app=api.app), base_url=IN_PROCESS, timeout=CUT_S)
    api.sandbox.set_webhook_client(impatient)
    apply_event, calls = services.apply_event, []

    async def slow_the_first_time(session: Any, event: Any) -> str:
        outcome = await apply_event(session, event)  # written, in its open transaction
        calls.append(outcome)
        if len(calls) == 1:
            await anyio.sleep(4 * CUT_S)  # the courier stops waiting meanwhile
        return outcome

    monkeypatch.setattr(services, "apply_event", slow_the_first_time)
    try:
        with anyio.fail_after(30):
            sent = await shipping.courier_event(order["shipment"]["tracking_code"], "picked")
    finally:
        await impatient.aclose()
    # The first attempt went unanswered; a later one found nothing held, and was applied: not a duplicate, the
    # first one's writes were rolled back. (Before, every retry waited for the first one's transaction, and all
    # five timed out. A slow moment of the machine may cut a second one too: it is rolled back as well.)
    assert sent["delivered"] and sent["attempts"] >= 2, sent
    assert calls[0] == calls[-1] == "applied" and "duplicate" not in calls, calls
    shown = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert shown["shipment"]["status"] == "picked"
    pool = api.app.state.runtime.engine.pool

    async def every_connection_back() -> bool:  # the relay may hold one a moment: the picked event made it work
        return pool.checkedout() == 0

    await eventually(every_connection_back, within_s=5)


async def test_the_embedded_courier_waits_for_an_answer_as_long_as_its_setting_says(api: Api) -> None:
    """Its in-process client took httpx's default (5 s), not the sandbox's `webhook_timeout_s` (10 s)."""
    runtime = api.app.state.runtime
    assert runtime.sandbox.config.webhook_timeout_s == 10.0
    timeouts = [client.timeout for client in runtime.clients]  # the webhooks' client, and the adapter's to it
    assert api.sandbox.webhook_timeout() in timeouts, timeouts
