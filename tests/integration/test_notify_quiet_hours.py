"""Quiet hours an admin saves hold marketing back, whatever the time of day the test runs at, and the message
waits on the channel it will go by: the one she consented to."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from orders_service.infra import clock
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import Dashboard, signed_in
from tests.integration.test_notifications import settled

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)  # the process that saves decides; other processes re-read within 5 s
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "boss", "admin")


async def test_marketing_in_quiet_hours_waits_on_the_channel_she_consented_to(admin: Dashboard, api: Api) -> None:
    now = clock.now().astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))  # the clock the gate reads
    quiet = {
        "quiet_start": (now - datetime.timedelta(hours=1)).strftime("%H:%M"),  # quiet now, whatever the hour
        "quiet_end": (now + datetime.timedelta(hours=1)).strftime("%H:%M"),
        "marketing_cap_per_day": "3",
    }
    assert (await admin.post("/dashboard/settings/notifications", quiet)).status_code == 303

    order = await api.create_order()
    customer = order["customer_id"]
    consent = {"consents": [{"channel": "sms", "purpose": "marketing", "state": "granted"}], "source": "pos"}
    granted = await api.request("POST", f"/api/customers/{customer}/consents", json=consent)
    assert granted.status_code == 200, granted.text
    shipping = Shipping(api)
    tracking = (await shipping.ship(order))["shipment"]["tracking_code"]
    await shipping.courier_event(tracking, "picked")
    await shipping.courier_event(tracking, "delivered")  # her first completed order: a tier upgrade, marketing

    mine = await settled(api, 3, customer_id=customer)  # shipped, delivered, tier upgraded
    (upgrade,) = [m for m in mine if m["template"] == "tier_upgraded"]
    assert (upgrade["status"], upgrade["channel"]) == ("queued", "sms"), upgrade
    assert upgrade["reason"] == f"quiet hours: deferred to {quiet['quiet_end']} local time"
    opens = datetime.datetime.fromisoformat(upgrade["deferred_until"]).astimezone(now.tzinfo)
    assert opens.strftime("%H:%M") == quiet["quiet_end"] and datetime.timedelta(0) < opens - now <= datetime.timedelta(
        hours=1
    )
    # The transactional messages of the same order went at once: quiet hours are for marketing only.
    assert {m["status"] for m in mine if m["purpose"] == "transactional"} == {"sent"}
