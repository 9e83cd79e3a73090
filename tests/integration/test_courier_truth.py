"""The courier is the truth for a parcel it holds: cancels and merges wait for it, lost updates are read back.

Issue 16 items 2 and 4, against the GHN and GHTK fakes (embedded engine, SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.pool import NullPool

from fakes.ghn.server import FakeGhn
from fakes.ghtk.server import FakeGhtk
from orders_service.db.engine import create_engine
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.shipping.reconcile import reconcile_shipments
from tests.integration.api import Api, Shipping, eventually
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.links import issue_link, public, token_of
from tests.integration.test_ghn_ghtk_service import (
    GHN_HOOK,
    World,
    events_of,
    fake_couriers,
    ghn_webhooks,
    refused,
    tryon_order,
)
from tests.integration.test_tryon_review import alerts

pytestmark = pytest.mark.anyio

NOON = datetime.datetime(2026, 12, 6, 5, 0, tzinfo=datetime.UTC)  # the reconciliation's clock, pinned
SHIRT = {"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "blue", "unit_price": 380000, "quantity": 1}


# The adapters talk to in-process fakes, which a Celery worker cannot reach: the embedded engine, both databases.
@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def world(settings: Settings, keys: dict[str, str]) -> AsyncIterator[World]:
    async with fake_couriers(settings, keys) as made:
        yield made


@pytest.fixture
def shipping(world: World) -> Shipping:
    return world.shipping


# --- helpers ------------------------------------------------------------------------------------------------


def cancel_calls(world: World, courier: str) -> int:
    if courier == "ghn":
        return sum(1 for path, _, _ in world.ghn.calls if path == "/v2/switch-status/cancel")
    return sum(1 for call in world.ghtk.calls if call.path.startswith("/services/shipment/cancel/"))


def fail_courier(world: World, courier: str, count: int) -> None:
    (world.ghn if courier == "ghn" else world.ghtk).fail_next(count, 500)


def heal_courier(world: World, courier: str) -> None:
    fake: FakeGhn | FakeGhtk = world.ghn if courier == "ghn" else world.ghtk
    fake._failures.clear()  # the courier answers again


def pick_up_unseen(world: World, courier: str, tracking: str) -> None:
    """The courier picked the parcel up; its webhook has not reached us (yet)."""
    if courier == "ghn":
        world.ghn.orders[tracking].status = "picked"
    else:
        world.ghtk.orders[tracking].status_id = 3


def parcel_cancelled(world: World, courier: str, tracking: str) -> bool:
    if courier == "ghn":
        return world.ghn.orders[tracking].status == "cancel"
    return world.ghtk.orders[tracking].status_id == -1


async def cancel(api: Api, order: dict[str, Any], reason: str = "khách huỷ") -> Any:
    return await api.request(
        "POST",
        f"/api/orders/{order['id']}/cancel",
        json={"reason": reason},
        headers={"If-Match": f'"{order["version"]}"'},
    )


async def merge(api: Api, into: dict[str, Any], source: dict[str, Any]) -> Any:
    body = {"order_ids": [into["id"], source["id"]], "into": into["id"], "reason": "cùng khách"}
    return await api.request("POST", "/api/orders/merge", json=body)


async def settled(shipping: Shipping, order_id: str) -> dict[str, Any]:
    """The order once nothing waits for its courier any more."""

    async def check() -> dict[str, Any] | None:
        current = await shipping.order(order_id)
        return current if current["pending_cancel"] is None else None

    return dict(await eventually(check))


async def reconcile(world: World, settings: Settings) -> int:
    """One reconciliation pass, called directly with a pinned clock (the app's own engine lives on its loop)."""
    engine = create_engine(settings, poolclass=NullPool)
    try:
        db = async_sessionmaker(engine, expire_on_commit=False, info=session_info(settings))
        return await reconcile_shipments(db, world.api.app.state.runtime.couriers, clock=lambda: NOON)
    finally:
        await engine.dispose()


# --- item 2: cancel and merge wait for the courier ----------------------------------------------------------


@pytest.mark.parametrize("courier", ["ghn", "ghtk"])
async def test_a_cancel_waits_for_a_slow_courier_and_the_order_keeps_its_cod(world: World, courier: str) -> None:
    api, shipping = world.api, world.shipping
    order = await shipping.ship(await api.create_order(courier=courier))
    tracking = order["shipment"]["tracking_code"]
    fail_courier(world, courier, 1000)  # the courier does not answer for now

    response = await cancel(api, order)
    assert response.status_code == 202, response.text
    waiting = response.json()
    assert (waiting["status"], waiting["cod_amount"]) == ("ready_to_ship", order["cod_amount"])
    assert waiting["pending_cancel"]["for"] == "cancel" and waiting["pending_cancel"]["reason"] == "khách huỷ"
    assert response.headers["etag"] == f'"{waiting["version"]}"'

    async def asked_twice() -> bool:
        return cancel_calls(world, courier) >= 2

    await eventually(asked_twice)  # the relay keeps asking, with backoff
    still = await shipping.order(order["id"])
    assert (still["status"], still["cod_amount"], still["pending_cancel"]) == (
        "ready_to_ship",
        order["cod_amount"],
        waiting["pending_cancel"],
    )
    assert not parcel_cancelled(world, courier, tracking)
    # Meanwhile nothing else changes: the courier may yet deliver the parcel as it is.
    refused(await api.amend(still, {"op": "add_payment", "amount": 10000}), "waits for", courier.upper())
    assert (await cancel(api, still)).status_code == 409
    split = {"parts": [{"lines": [{"line_id": still["lines"][0]["id"], "quantity": 1}]}]}
    etag = {"If-Match": f'"{still["version"]}"'}
    refused(await api.request("POST", f"/api/orders/{order['id']}/split", json=split, headers=etag), "waits for")
    other = await api.create_order(courier=courier, customer_id=order["customer_id"])
    assert (await merge(api, other, still)).status_code == 409

    heal_courier(world, courier)
    final = await settled(shipping, order["id"])
    assert (final["status"], final["cod_amount"]) == ("cancelled", 0)
    assert parcel_cancelled(world, courier, tracking)
    kinds = [(e["type"], e["actor"]["kind"], e["cod_after"]) for e in await events_of(api, order)]
    assert kinds[-2:] == [("cancel_requested", "staff", order["cod_amount"]), ("cancelled", "staff", 0)]


@pytest.mark.parametrize("courier", ["ghn", "ghtk"])
async def test_a_cancel_the_courier_refuses_leaves_the_order_in_transit_with_its_cod(
    world: World, settings: Settings, courier: str
) -> None:
    api, shipping = world.api, world.shipping
    order = await shipping.ship(await api.create_order(courier=courier))
    tracking = order["shipment"]["tracking_code"]
    pick_up_unseen(world, courier, tracking)

    response = await cancel(api, order)
    assert response.status_code == 202, response.text
    final = await settled(shipping, order["id"])
    assert (final["status"], final["cod_amount"]) == ("in_transit", order["cod_amount"])
    assert final["shipment"]["status"] == "picked"
    assert not parcel_cancelled(world, courier, tracking)
    events = await events_of(api, order)
    refusal = next(e for e in events if e["type"] == "cancel_refused")
    assert refusal["actor"] == {"kind": "courier", "id": courier} and refusal["cod_after"] == order["cod_amount"]
    assert "not cancel" in refusal["reason"]
    assert "courier_picked" in [e["type"] for e in events]
    assert ("cancel_refused", False) in await alerts(settings, order)
    # Nothing waits any more: the order takes the changes its courier accepts after pickup.
    assert (await cancel(api, final)).status_code == 409  # in transit: too late to cancel


async def test_a_merge_waits_for_the_source_parcel_and_a_refusal_keeps_its_cod(
    world: World, settings: Settings
) -> None:
    api, shipping = world.api, world.shipping
    into = await api.create_order(courier="ghn", prepaid=100000)
    source = await shipping.ship(await api.create_order(courier="ghn", customer_id=into["customer_id"]))
    pick_up_unseen(world, "ghn", source["shipment"]["tracking_code"])

    response = await merge(api, into, source)
    assert response.status_code == 202, response.text
    assert (response.json()["version"], response.json()["cod_amount"]) == (into["version"], into["cod_amount"])
    waiting = await shipping.order(source["id"])
    assert waiting["pending_cancel"]["for"] == "merge" and waiting["pending_cancel"]["into"] == into["id"]
    assert waiting["cod_amount"] == source["cod_amount"]

    final = await settled(shipping, source["id"])
    assert (final["status"], final["cod_amount"], final["merged_into"]) == ("in_transit", source["cod_amount"], None)
    survivor = await shipping.order(into["id"])
    assert (survivor["merged_from"], survivor["cod_amount"], survivor["version"]) == (
        [],
        into["cod_amount"],
        into["version"],
    )
    assert "cancel_refused" in [e["type"] for e in await events_of(api, source)]
    assert ("cancel_refused", False) in await alerts(settings, source)


async def test_a_merge_waits_for_a_slow_courier_then_moves_the_cod(world: World) -> None:
    api, shipping = world.api, world.shipping
    into = await api.create_order(courier="ghtk", prepaid=100000)
    source = await shipping.ship(
        await api.create_order(courier="ghtk", customer_id=into["customer_id"], lines=[SHIRT], prepaid=50001)
    )
    fail_courier(world, "ghtk", 1000)
    response = await merge(api, into, source)
    assert response.status_code == 202, response.text

    async def asked() -> bool:
        return cancel_calls(world, "ghtk") >= 1

    await eventually(asked)
    assert (await shipping.order(source["id"]))["cod_amount"] == source["cod_amount"]
    assert (await shipping.order(into["id"]))["cod_amount"] == into["cod_amount"]

    heal_courier(world, "ghtk")
    final = await settled(shipping, source["id"])
    assert (final["status"], final["cod_amount"], final["merged_into"]) == ("merged", 0, into["id"])
    survivor = await shipping.order(into["id"])
    assert survivor["merged_from"] == [source["id"]] and survivor["paid"] == 150001
    assert survivor["cod_amount"] == survivor["total"] - 150001
    merged_in = next(e for e in await events_of(api, into) if e["type"] == "merged_in")
    assert "GHTK confirmed" in merged_in["reason"] and merged_in["actor"]["kind"] == "staff"


async def test_orders_without_a_live_parcel_cancel_and_merge_at_once(world: World) -> None:
    api = world.api
    order = await api.create_order(courier="ghn")
    done = await cancel(api, order)
    assert done.status_code == 200 and done.json()["status"] == "cancelled" and done.json()["pending_cancel"] is None
    into = await api.create_order(courier="ghn")
    source = await api.create_order(courier="ghn", customer_id=into["customer_id"])
    merged = await merge(api, into, source)
    assert merged.status_code == 201, merged.text
    assert merged.json()["merged_from"] == [source["id"]]


# --- item 4: lost status updates are read back ------------------------------------------------------------


async def test_reconciliation_applies_a_delivery_whose_webhook_never_came_and_never_goes_back(
    world: World, settings: Settings
) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await api.create_order(courier="ghn"))
    tracking = order["shipment"]["tracking_code"]
    ghn.set_status(tracking, "picked")
    ghn.set_status(tracking, "delivering")
    await ghn_webhooks(world)
    out = await shipping.order(order["id"])
    assert (out["status"], out["shipment"]["status"]) == ("in_transit", "out_for_delivery")

    ghn.orders[tracking].status = "picked"  # a stale read: never moves the parcel back
    await reconcile(world, settings)
    again = await shipping.order(order["id"])
    assert (again["version"], again["shipment"]["status"]) == (out["version"], "out_for_delivery")

    ghn.set_status(tracking, "delivered")
    ghn.pending_webhooks.clear()  # GHN's 10 tries ran out
    assert await reconcile(world, settings) == 1
    final = await shipping.order(order["id"])
    assert (final["status"], final["shipment"]["status"]) == ("delivered", "delivered")
    assert (final["cod_collected"], final["cod_mismatch"]) == (order["cod_amount"], False)
    assert (await events_of(api, order))[-1]["actor"] == {"kind": "courier", "id": "ghn"}
    assert await reconcile(world, settings) == 0  # a delivered parcel is final: nothing more to read
    assert (await shipping.order(order["id"]))["version"] == final["version"]


async def test_reconciliation_sends_an_unitemised_tryon_delivery_to_staff(world: World, settings: Settings) -> None:
    api, shipping, ghtk = world.api, world.shipping, world.ghtk
    order = await shipping.ship(await tryon_order(api, "ghtk"))
    label = order["shipment"]["tracking_code"]
    ghtk.set_status(label, 3)
    ghtk.set_status(label, 5)
    ghtk.pending_webhooks.clear()
    assert await reconcile(world, settings) == 1
    final = await shipping.order(order["id"])
    assert (final["status"], final["cod_amount"]) == ("needs_review", order["cod_amount"])
    assert await alerts(settings, order) == [("needs_review", False)]
    assert "try-on" in (await events_of(api, order))[-1]["reason"]


async def test_reconciliation_follows_ghns_return_order_for_the_refused_part(world: World, settings: Settings) -> None:
    api, shipping, ghn = world.api, world.shipping, world.ghn
    order = await shipping.ship(await api.create_order(courier="ghn", lines=[SHIRT, {**SHIRT, "size": "M"}]))
    tracking = order["shipment"]["tracking_code"]
    ghn.set_status(tracking, "picked")
    await ghn_webhooks(world)
    ghn.set_status(tracking, "delivered", partial=True, cod=410000)
    ghn.pending_webhooks.clear()
    assert await reconcile(world, settings) >= 1
    review = await shipping.order(order["id"])
    back = ghn.orders[tracking].partial_return_code
    assert review["status"] == "needs_review"
    assert (review["shipment"]["return_code"], review["shipment"]["return_status"]) == (back, "returning")

    ghn.set_status(back, "transporting")  # read back as still on its way: nothing new
    ghn.pending_webhooks.clear()
    assert await reconcile(world, settings) == 0
    ghn.set_status(back, "returned")
    assert [hook["OrderCode"] for hook in await ghn_webhooks(world)] == [back]  # the return's own webhook
    final = await shipping.order(order["id"])
    assert final["shipment"]["return_status"] == "returned"
    note = (await events_of(api, order))[-1]
    assert note["type"] == "return_moved" and back in note["reason"] and "back at the shop" in note["reason"]
    reads = len(ghn.calls)
    assert await reconcile(world, settings) == 0
    assert len(ghn.calls) == reads  # final: neither the parcel nor its return is read again


async def test_the_embedded_engine_reconciles_on_its_own(settings: Settings, keys: dict[str, str]) -> None:
    quick = msgspec.structs.replace(settings, reconcile_s=0.2)
    async with fake_couriers(quick, keys) as world:
        api, shipping, ghn = world.api, world.shipping, world.ghn
        order = await shipping.ship(await api.create_order(courier="ghn"))
        tracking = order["shipment"]["tracking_code"]
        ghn.set_status(tracking, "picked")
        ghn.set_status(tracking, "delivered")
        ghn.pending_webhooks.clear()

        async def delivered() -> dict[str, Any] | None:
            current = await shipping.order(order["id"])
            return current if current["status"] == "delivered" else None

        final = await eventually(delivered)
        assert final["shipment"]["status"] == "delivered"
        replay = await api.client.post(
            GHN_HOOK, json={"OrderCode": tracking, "Status": "picked", "Time": "2026-01-01T00:00:00Z"}
        )
        assert replay.status_code == 200
        assert (await shipping.order(order["id"]))["version"] == final["version"]


async def test_staff_see_the_order_wait_for_the_courier_in_the_dashboard(world: World, settings: Settings) -> None:
    api, shipping = world.api, world.shipping
    order = await shipping.ship(await api.create_order(courier="ghn"))
    fail_courier(world, "ghn", 1000)
    staff = await signed_in(settings, api.client, "lan", "staff")
    base = f"/dashboard/orders/{order['id']}"
    assert "chờ hãng xác nhận huỷ" in (await staff.get(f"{base}/cancel")).text
    assert (await staff.post(f"{base}/cancel", {"version": str(order["version"])})).status_code == 303
    shown = await staff.get(base)
    assert "Đang chờ GHN xác nhận huỷ vận đơn" in shown.text and 'id="pending-cancel"' in shown.text
    assert f"{base}/amend" not in shown.text and f"{base}/cancel" not in shown.text  # nothing else meanwhile
    assert "Yêu cầu huỷ: chờ hãng xác nhận huỷ vận đơn" in shown.text
    heal_courier(world, "ghn")
    await settled(shipping, order["id"])
    assert 'id="pending-cancel"' not in (await staff.get(base)).text


async def test_a_customer_cancel_through_her_link_waits_for_the_courier_too(world: World) -> None:
    api, shipping = world.api, world.shipping
    order = await shipping.ship(await api.create_order(courier="ghtk"))
    fail_courier(world, "ghtk", 1000)
    token = token_of(await issue_link(api, order))
    asked = await public(api, token, "/cancel", method="POST", headers={"If-Match": f'"{order["version"]}"'})
    assert asked.status_code == 202, asked.text
    waiting = await shipping.order(order["id"])
    assert (waiting["status"], waiting["cod_amount"]) == ("ready_to_ship", order["cod_amount"])
    assert waiting["pending_cancel"]["by"]["kind"] == "customer"
    heal_courier(world, "ghtk")
    assert (await settled(shipping, order["id"]))["status"] == "cancelled"
