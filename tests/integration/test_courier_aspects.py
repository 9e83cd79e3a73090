"""Per-aspect courier sync and GHTK's cancel-and-recreate, through the API and the relay, against the fakes.

A courier that refuses one aspect of a change (GHN's limit on recipient changes) still gets the others (the COD);
what it refused is shown per aspect. A GHTK recreate whose new order is refused after the old label was
cancelled is tried again until a live parcel exists, and staff are told to print the new label.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from orders_service.messaging.models import Notification
from tests.integration.api import eventually
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.test_ghn_ghtk_service import World, events_of, fake_couriers, ghtk_webhooks
from tests.integration.test_tryon_review import alerts

pytestmark = pytest.mark.anyio
STAFF = "kho@shop.test"


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for made in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(made, notify=msgspec.structs.replace(made.notify, staff=(STAFF,)))


@pytest.fixture
async def world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    async with fake_couriers(settings, keys) as made:
        yield made


async def staff_messages(settings: Settings, order: dict[str, Any]) -> list[str]:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            query = select(Notification.template).where(
                Notification.order_id == uuid.UUID(order["id"]), Notification.to == STAFF
            )
            return list(await session.scalars(query.order_by(Notification.id)))
    finally:
        await engine.dispose()


async def test_ghn_a_refused_recipient_change_does_not_hold_back_the_cod(world: World, settings: Settings) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await api.create_order(courier="ghn"))
    stored = ghn.orders[order["shipment"]["tracking_code"]]
    current = order
    for name in ("Chị Hoa", "Chị Mai"):  # GHN takes two recipient changes
        changed = await api.amend(current, {"op": "set_recipient", "name": name})
        assert changed.status_code == 200, changed.text
        current = await shipping.synced(order["id"])
    assert stored.fields["to_name"] == "Chị Mai"

    third = await api.amend(current, {"op": "set_recipient", "name": "Chị Lan"})
    assert third.status_code == 200, third.text
    paid = await api.amend(third.json(), {"op": "add_payment", "amount": 130000})
    assert paid.status_code == 200, paid.text
    cod = paid.json()["cod_amount"]
    assert cod == 480000 - 130000

    async def settled() -> dict[str, Any] | None:
        now = await shipping.order(order["id"])
        return now if now["shipment"]["cod_amount"] == cod and now["shipment"]["refused"] else None

    current = await eventually(settled)
    assert stored.fields["cod_amount"] == stored.buyer_pays == cod  # the COD reached GHN
    assert stored.fields["to_name"] == "Chị Mai"  # what GHN holds, and what the order's synced state says
    refused = current["shipment"]["refused"]
    assert list(refused) == ["recipient"] and "tối đa 2 lần" in refused["recipient"]
    assert current["shipment"]["sync_state"] == "sync_failed"
    told = [e["reason"] for e in await events_of(api, order) if e["type"] == "sync_failed"]
    assert len(told) == 1 and told[0].startswith("ghn refused the recipient change: ")
    assert await alerts(settings, order) == [("sync_failed", False)]
    assert await staff_messages(settings, order) == ["sync_failed"]
    dashboard = await signed_in(settings, api.client, "lan", "staff")
    page = await dashboard.get(f"/dashboard/orders/{order['id']}")
    assert page.status_code == 200 and 'data-aspect="recipient"' in page.text and "tối đa 2 lần" in page.text

    # A later change sends its own aspect only: the refused recipient is not asked again, nor the COD resent.
    updates = [path for path, _, _ in ghn.calls]
    more = await api.amend(current, {"op": "add_payment", "amount": 50000})
    assert more.status_code == 200, more.text

    async def cod_again() -> dict[str, Any] | None:
        now = await shipping.order(order["id"])
        return now if now["shipment"]["cod_amount"] == cod - 50000 else None

    await eventually(cod_again)
    assert [path for path, _, _ in ghn.calls][len(updates) :] == ["/v2/shipping-order/updateCOD"]

    # Staff retry: the recipient is asked again (and refused again, GHN's limit stands); the COD is not resent.
    await dashboard.get(f"/dashboard/orders/{order['id']}")  # the form's CSRF token
    retried = await dashboard.post(f"/dashboard/queues/sync-failed/{order['id']}/retry")
    assert retried.status_code in (200, 303), retried.text

    async def asked_again() -> bool:
        return len(ghn.calls) > len(updates) + 1

    await eventually(asked_again)
    assert [path for path, _, _ in ghn.calls][len(updates) + 1 :] == ["/v2/shipping-order/update"]
    again = await eventually(lambda: _refused_again(shipping, order["id"]))
    assert "tối đa 2 lần" in again["shipment"]["refused"]["recipient"]


async def _refused_again(shipping: Any, order_id: str) -> dict[str, Any] | None:
    now = await shipping.order(order_id)
    return now if now["shipment"]["sync_state"] == "sync_failed" else None


async def test_ghtk_a_refused_recreate_is_retried_until_a_live_parcel_exists(world: World, settings: Settings) -> None:
    api, shipping, ghtk, gate = world.api, world.shipping, world.ghtk, world.gate
    order = await shipping.ship(await api.create_order(courier="ghtk"))
    first = order["shipment"]["tracking_code"]
    gate.creates = "refusing"
    moved = await api.amend(order, {"op": "set_recipient", "name": "Chị Hoa"})
    assert moved.status_code == 200, moved.text

    async def refused_twice() -> bool:
        return gate.refused >= 2  # the relay came back after the first refusal

    await eventually(refused_twice)
    waiting = await shipping.order(order["id"])
    assert ghtk.orders[first].status_id == -1  # the old label is void
    assert (waiting["status"], waiting["shipment"]["status"]) == ("ready_to_ship", "cancelled")
    assert waiting["shipment"]["sync_state"] == "pending" and REFUSED in waiting["shipment"]["last_error"]
    failed = [e["reason"] for e in await events_of(api, order) if e["type"] == "recreate_failed"]
    assert len(failed) == 1 and first in failed[0] and REFUSED in failed[0]  # told once, not per retry

    gate.creates = "pass"
    current = await shipping.synced(order["id"])
    second = current["shipment"]["tracking_code"]
    assert second != first and (current["shipment"]["status"], current["status"]) == ("created", "ready_to_ship")
    live = [o for o in ghtk.orders.values() if o.status_id != -1]
    assert [(o.label, o.partner_id, o.order["name"]) for o in live] == [(second, f"{order['code']}-2", "Chị Hoa")]
    replaced = [e["reason"] for e in await events_of(api, order) if e["type"] == "label_replaced"]
    assert len(replaced) == 1 and first in replaced[0] and second in replaced[0]
    assert await alerts(settings, order) == [("recreate_failed", False), ("label_replaced", False)]
    assert await staff_messages(settings, order) == ["sync_failed", "label_replaced"]

    await ghtk_webhooks(world)  # the old order's cancellation comes late: the new parcel stays ours
    ghtk.set_status(second, 3)
    await ghtk_webhooks(world)
    picked = await shipping.order(order["id"])
    assert (picked["status"], picked["shipment"]["status"]) == ("in_transit", "picked")


REFUSED = "tạm ngưng phục vụ"


@pytest.mark.parametrize("status_id", [7, 8])
async def test_ghtk_a_parcel_ghtk_will_not_cancel_counts_as_picked_up(world: World, status_id: int) -> None:
    api, shipping, ghtk = world.api, world.shipping, world.ghtk
    order = await shipping.ship(await api.create_order(courier="ghtk"))
    label = order["shipment"]["tracking_code"]
    ghtk.set_status(label, status_id)
    await ghtk_webhooks(world)
    picked = await shipping.order(order["id"])
    assert (picked["status"], picked["shipment"]["status"]) == ("in_transit", "picked")
    refused = await api.amend(picked, {"op": "set_recipient", "name": "Chị Hoa"})
    assert refused.status_code == 409 and "GHTK" in refused.json()["detail"], refused.text
    assert len(ghtk.orders) == 1 and ghtk.orders[label].status_id == status_id  # never cancelled
