"""Provider faults through the relay: a 5xx is retried and sent once; no Zalo falls back to SMS; a refused
template or too many transient failures end in a recorded failure, never a lost or doubled message.

The ZNS and SMS fakes are in-process apps reached through test transports, which a Celery worker process cannot
reach: these run embedded, on SQLite and PostgreSQL. The log provider runs on every engine elsewhere.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from fakes import notifications as notification_fakes
from fakes.notifications import FakeSmsGateway, FakeZns
from notifications.policy import Channel
from notifications.providers import (
    LogProvider,
    OutboundMessage,
    Provider,
    Receipt,
    SmsGateway,
    SmsGatewayConfig,
    ZnsConfig,
    ZnsProvider,
)
from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.api import Api, eventually
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
ZNS, SMS = FakeZns(), FakeSmsGateway()


class Held:
    """A provider that, when told to, holds the next message until released: something happens meanwhile.

    Thread events: the test client runs the app on an event loop of its own."""

    def __init__(self, inner: Provider) -> None:
        self.inner, self.name = inner, inner.name
        self.hold = False
        self.reached, self.release = threading.Event(), threading.Event()

    async def send(self, message: OutboundMessage) -> Receipt:
        if self.hold:
            self.hold = False
            self.reached.set()
            await asyncio.to_thread(self.release.wait, 10)
        return await self.inner.send(message)

    async def aclose(self) -> None:
        await self.inner.aclose()


ZALO: Held


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for found in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(found, notify=msgspec.structs.replace(found.notify, max_attempts=3))


@pytest.fixture
def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Litestar:
    monkeypatch.setattr(notification_fakes, "HANG_S", 1.0)
    for fake in (ZNS, SMS):
        fake.received.clear()
        fake.faults.clear()
    ZNS.templates, ZNS.no_zalo, ZNS.sent = {"9001": {"code"}}, set(), []
    SMS.sent.clear()
    global ZALO
    zns = ZnsConfig("zns-token", {"order_amended": "9001"}, "http://zns.test/message/template", 0.3)
    ZALO = Held(ZnsProvider(zns, ZNS.http()))
    providers = {
        Channel.ZALO: ZALO,
        Channel.SMS: SmsGateway(
            SmsGatewayConfig("esms-key", "esms-secret", "MINSHOP", f"http://esms.test{SMS.PATH}", timeout_s=0.3),
            SMS.http(),
        ),
        Channel.EMAIL: LogProvider(Channel.EMAIL),
    }
    return create_app(settings, providers=providers)


async def amended_message(api: Api) -> dict[str, Any]:
    order = await api.create_order()
    line = order["lines"][0]["id"]
    assert (await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})).status_code == 200

    async def check() -> dict[str, Any] | None:
        response = await api.request("GET", "/api/notifications", params={"order_id": order["id"]})
        items = response.json()["items"]
        return items[0] if items and items[0]["status"] != "queued" else None

    return await eventually(check)


async def test_a_5xx_and_a_timeout_are_retried_and_the_message_sent_once(api: Api) -> None:
    ZNS.fail("5xx", "timeout")
    message = await amended_message(api)
    assert (message["status"], message["channel"], message["attempts"]) == ("sent", "zalo", 3)
    assert len(ZNS.received) == 3 and len(ZNS.sent) == 1


async def test_no_zalo_account_falls_back_to_sms(api: Api) -> None:
    ZNS.fail("-118")
    message = await amended_message(api)
    assert (message["status"], message["channel"], message["provider"]) == ("sent", "sms", "sms_gateway")
    assert message["reason"].startswith("not sent by zalo: ZNS -118")
    assert len(SMS.sent) == 1 and "930.000 ₫" in next(iter(SMS.sent.values()))["Content"]


async def test_a_rejected_template_is_a_recorded_failure(api: Api) -> None:
    ZNS.fail("-112")
    message = await amended_message(api)
    assert (message["status"], message["reason"]) == ("failed", "zalo: ZNS -112: fault")
    assert SMS.received == []  # the message itself was refused: no second channel


async def test_transient_failures_past_the_limit_end_in_failed(api: Api) -> None:
    ZNS.fail("5xx", "5xx", "5xx", "5xx")
    message = await amended_message(api)
    assert message["status"] == "failed" and message["reason"].startswith("gave up after 3 attempts")
    assert len(ZNS.received) == 3 and ZNS.sent == []


async def test_a_message_in_flight_when_she_is_erased_does_not_bring_her_phone_back(api: Api) -> None:
    """The provider has the message when an admin erases her: the outcome is recorded, her address stays erased."""
    ZALO.hold = True
    order = await api.create_order()
    line = order["lines"][0]["id"]
    assert (await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})).status_code == 200
    assert await asyncio.to_thread(ZALO.reached.wait, 10)
    current = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    version = {"If-Match": f'"{current["version"]}"'}
    cancelled = await api.request("POST", f"/api/orders/{order['id']}/cancel", headers=version, json={})
    assert cancelled.status_code == 200, cancelled.text
    erased = await api.request("POST", f"/api/customers/{order['customer_id']}/erase", key="admin")
    assert erased.status_code == 200, erased.text
    ZALO.release.set()

    async def recorded() -> dict[str, Any] | None:
        response = await api.request("GET", "/api/notifications", params={"order_id": order["id"]})
        items = [m for m in response.json()["items"] if m["template"] == "order_amended"]
        return items[0] if items and items[0]["status"] == "sent" else None

    message = await eventually(recorded)
    assert len(ZNS.sent) == 1  # it did go out, before she was erased
    assert message["to"] == "(đã xoá)", message
    phone = order["recipient"]["phones"][0]
    export = (await api.request("GET", f"/api/customers/{order['customer_id']}/export")).text
    assert phone not in export and "+84" + phone[1:] not in export
