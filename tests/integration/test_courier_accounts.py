"""Courier accounts an admin saves in the dashboard reach every process without a restart: the relay that syncs
with the courier (in-process, or a Celery worker that was running before the save) and webhook verification.

GHN is not configured by the environment here, only its address: the fake GHN is served on that port, so that
a worker process reaches it too, and it records each call's headers (which token and shop id were used).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from fakes.ghn.server import PREFIX, FakeGhn
from orders_service.app import create_app
from orders_service.infra.settings import Settings
from orders_service.shop_settings.accounts import CourierAccounts
from tests.integration.api import Api, Shipping, eventually
from tests.integration.celery_engine import served
from tests.integration.conftest import DATABASES, ENGINES, engine_settings
from tests.integration.dashboard import Dashboard, signed_in
from tests.integration.processes import free_port

pytestmark = pytest.mark.anyio

SHOP_ID = 885_002
TOKEN, NEW_TOKEN = "saved-ghn-token-7c1e", "rotated-ghn-token-0b4d"
SECRET = "saved-hook-secret-91ab"
FORM = {"ghn.token": TOKEN, "ghn.shop_id": str(SHOP_ID), "ghn.webhook_secret": SECRET, "ghtk.token": ""}


@pytest.fixture(params=ENGINES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    made = engine_settings(request, tmp_path)
    found = next(made)
    if "base_url" not in found.couriers.get("ghn", {}):  # the Celery engine's worker was started with one
        ghn = {"base_url": f"http://127.0.0.1:{free_port()}{PREFIX}"}
        found = msgspec.structs.replace(found, couriers={**found.couriers, "ghn": ghn})
    yield found
    next(made, None)  # the engine's clean-up


@pytest.fixture
async def ghn(settings: Settings) -> AsyncIterator[FakeGhn]:
    fake = FakeGhn(token=TOKEN, shop_id=SHOP_ID)
    async with served(fake.app, httpx.URL(settings.couriers["ghn"]["base_url"]).port or 80):
        yield fake


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "boss", "admin")


def calls(ghn: FakeGhn, path: str) -> list[dict[str, str]]:
    """The headers of each call GHN received on `path`."""
    return [headers for called, headers, _ in ghn.calls if called == path]


async def test_an_account_saved_in_the_dashboard_is_used_by_the_relay_and_webhooks(
    admin: Dashboard, api: Api, ghn: FakeGhn, settings: Settings
) -> None:
    shipping = Shipping(api)
    assert (await admin.post("/dashboard/settings/couriers", FORM)).status_code == 303

    # The create runs on the engine's relay: in this process, or in the Celery worker started before the save.
    # That worker may try before its next read of the accounts (5 s) and retry with backoff: give it time.
    order = await api.create_order(courier="ghn")
    shipped = await shipping.ship(order, within_s=40)
    tracking = shipped["shipment"]["tracking_code"]
    assert ghn.orders[tracking].client_order_code == order["code"]
    assert [(h["token"], h["shopid"]) for h in calls(ghn, "/v2/shipping-order/create")] == [(TOKEN, str(SHOP_ID))]

    # GHN reports the pickup to the URL registered with the saved secret; any other secret is refused.
    ghn.set_status(tracking, "picked")
    forged = await api.client.post("/webhooks/couriers/ghn?token=not-the-secret", json=ghn.pending_webhooks[0])
    assert forged.status_code == 401
    hooks = await ghn.deliver_webhooks(api.client, f"/webhooks/couriers/ghn?token={SECRET}", attempts=1)
    assert hooks and all(d.delivered for d in hooks), hooks
    picked = await shipping.order(order["id"])
    assert (picked["status"], picked["shipment"]["status"]) == ("in_transit", "picked")

    # GHN issues a new token and the old one stops working. A process that read the accounts before the save
    # may call with the old one for a few seconds: GHN refuses it, and staff retry the refused sync.
    ghn.token = NEW_TOKEN
    rotated = await admin.post("/dashboard/settings/couriers", {**FORM, "ghn.token": NEW_TOKEN})
    assert rotated.status_code == 303
    moved = await api.amend(picked, {"op": "set_recipient", "name": "Phạm Hoa"})
    assert moved.status_code == 200, moved.text

    retries = []

    async def synced_again() -> dict[str, Any] | None:
        now = await shipping.order(order["id"])
        if now["shipment"]["sync_state"] == "sync_failed":
            retries.append(now["shipment"])
            retried = await admin.post(f"/dashboard/queues/sync-failed/{order['id']}/retry")
            assert retried.status_code == 303, retried.text
            return None
        return now if now["shipment"]["synced_version"] == moved.json()["version"] else None

    await eventually(synced_again, within_s=30, interval=0.5)
    if settings.relay == "embedded":  # the relay runs in the process that saved: it used the new token at once
        assert retries == []
    assert ghn.orders[tracking].fields["to_name"] == "Phạm Hoa"
    assert calls(ghn, "/v2/shipping-order/update")[-1]["token"] == NEW_TOKEN


@pytest.mark.parametrize("settings", DATABASES, indirect=True)
async def test_another_api_process_verifies_webhooks_and_ships_with_the_saved_account(
    admin: Dashboard, api: Api, ghn: FakeGhn, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second API process on the same database (as `serve --no-migrate` replicas run), started before the save:
    it takes the account up within its TTL (1 s here, 5 s in production), with no restart."""
    monkeypatch.setattr(CourierAccounts, "TTL", 1.0)
    replica = create_app(msgspec.structs.replace(settings, relay="off"))
    hook = {"OrderCode": "GF-NOT-OURS", "Status": "picked", "Time": "2025-07-01T10:00:00Z", "ShopID": SHOP_ID}
    async with AsyncTestClient(app=replica, timeout=30) as other:
        assert (await other.post(f"/webhooks/couriers/ghn?token={SECRET}", json=hook)).status_code == 401
        assert (await admin.post("/dashboard/settings/couriers", FORM)).status_code == 303

        async def accepted() -> bool:
            answer = await other.post(f"/webhooks/couriers/ghn?token={SECRET}", json=hook)
            return answer.status_code == 200 and answer.json() == {"unmatched": 1}

        await eventually(accepted, interval=0.2)
        forged = await other.post("/webhooks/couriers/ghn?token=not-the-secret", json=hook)
        assert forged.status_code == 401

        # Shipping through GHN is accepted there too (the relay of the first process creates the GHN order).
        order = await api.create_order(courier="ghn")
        staff = api.headers()
        confirmed = await other.post(f"/api/orders/{order['id']}/confirm", headers={**staff, "If-Match": '"1"'})
        assert confirmed.status_code == 200, confirmed.text
        shipped = await other.post(f"/api/orders/{order['id']}/ship", headers={**staff, "If-Match": '"2"'})
        assert shipped.status_code == 200, shipped.text
    await Shipping(api).synced(order["id"])
    assert [h["token"] for h in calls(ghn, "/v2/shipping-order/create")] == [TOKEN]
