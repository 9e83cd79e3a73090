"""Couriers misbehaving: 5xx and timeouts for a while, lost answers, refusals, and webhooks replayed or forged."""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.integration.api import Api, Shipping, eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


def sandbox(api: Api) -> Any:
    return api.sandbox


def parcels_of(api: Api, order_code: str) -> list[Any]:
    return [s for s in sandbox(api).shipments.values() if s.client_code.split("-")[0] == order_code]


async def test_five_hundreds_then_recovery_syncs_every_change_once(api: Api, shipping: Shipping) -> None:
    order = await api.create_order()
    sandbox(api).fail_next(4, status_code=503)
    shipped = await shipping.ship(order)
    assert len(parcels_of(api, order["code"])) == 1
    sandbox(api).fail_next(3, status_code=500)
    amended = await api.amend(shipped, {"op": "set_recipient", "name": "Chị Hoa"})
    final = await shipping.synced(amended.json()["id"])
    assert (await shipping.parcel(final["shipment"]["tracking_code"]))["recipient_name"] == "Chị Hoa"


async def test_timeouts_then_recovery(api: Api, shipping: Shipping) -> None:
    order = await api.create_order()
    sandbox(api).delay(1500)  # the adapter gives up after 1 s in tests
    path = f"/api/orders/{order['id']}"
    confirmed = (await api.request("POST", f"{path}/confirm", headers={"If-Match": '"1"'})).json()
    await api.request("POST", f"{path}/ship", headers={"If-Match": f'"{confirmed["version"]}"'})

    async def timed_out() -> bool:
        shipment = (await shipping.order(order["id"]))["shipment"]
        return bool(shipment["last_error"]) and "timed out" in shipment["last_error"]

    await eventually(timed_out)
    sandbox(api).clear_faults()
    final = await shipping.synced(order["id"])
    assert final["shipment"]["tracking_code"]
    assert len(parcels_of(api, order["code"])) == 1  # the timed-out create was found, not repeated


async def test_a_create_whose_answer_is_lost_is_looked_up_not_repeated(api: Api, shipping: Shipping) -> None:
    order = await api.create_order()
    sandbox(api).lose_next_create_response()
    final = await shipping.ship(order)
    assert [p.tracking_code for p in parcels_of(api, order["code"])] == [final["shipment"]["tracking_code"]]


async def test_a_parcel_found_after_a_lost_create_gets_the_changes_made_since(
    api: Api, shipping: Shipping, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The create reaches the courier but its answer never comes back (in the scale run, a worker killed mid-call),
    # and the order changes before a retry finds the parcel: the parcel holds the order as it was.
    order = await api.create_order()
    courier = sandbox(api)
    lose_answer = courier.lose_create_answer

    def lose_answer_then_go_down() -> None:
        if courier.faults.lose_next_create_response:  # unreachable from now on, until the test clears it
            courier.fail_next(1_000_000, status_code=503)
        lose_answer()

    monkeypatch.setattr(courier, "lose_create_answer", lose_answer_then_go_down)
    courier.lose_next_create_response()
    path = f"/api/orders/{order['id']}"
    confirmed = (await api.request("POST", f"{path}/confirm", headers={"If-Match": '"1"'})).json()
    shipped = await api.request("POST", f"{path}/ship", headers={"If-Match": f'"{confirmed["version"]}"'})
    assert shipped.status_code == 200, shipped.text

    async def landed() -> bool:
        return len(parcels_of(api, order["code"])) == 1

    await eventually(landed)
    (created,) = parcels_of(api, order["code"])
    renamed = await api.amend(shipped.json(), {"op": "set_recipient", "name": "Chị Hoa"})
    assert renamed.status_code == 200, renamed.text
    paid = await api.amend(renamed.json(), {"op": "add_payment", "amount": 45000})
    assert paid.status_code == 200, paid.text
    assert paid.json()["cod_amount"] == created.cod_amount - 45000
    courier.clear_faults()

    final = await shipping.synced(order["id"])
    assert [p.tracking_code for p in parcels_of(api, order["code"])] == [final["shipment"]["tracking_code"]]
    parcel = await shipping.parcel(final["shipment"]["tracking_code"])
    assert (parcel["cod_amount"], parcel["recipient_name"]) == (paid.json()["cod_amount"], "Chị Hoa")
    assert final["shipment"]["cod_amount"] == paid.json()["cod_amount"]


async def test_a_refusal_ends_in_sync_failed_with_the_couriers_message(api: Api, shipping: Shipping) -> None:
    order = await shipping.ship(await api.create_order())
    sandbox(api).fail_next(1, status_code=422)
    await api.amend(order, {"op": "set_recipient", "name": "Chị Hoa"})

    async def failed() -> dict[str, Any] | None:
        current = await shipping.order(order["id"])
        return current if current["shipment"]["sync_state"] == "sync_failed" else None

    current = await eventually(failed)
    assert current["shipment"]["last_error"]
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["type"] == "sync_failed" and events[-1]["actor"]["kind"] == "system"
    # A later change tries again, and succeeds once the courier takes it.
    retried = await api.amend(current, {"op": "set_recipient", "name": "Chị Hoa Nguyễn"})
    assert retried.status_code == 200
    final = await shipping.synced(order["id"])
    assert final["shipment"]["sync_state"] == "synced"


def signed(api: Api, body: dict[str, Any], message_id: str, at: datetime.datetime | None = None) -> dict[str, Any]:
    secret = sandbox(api).config.webhook_secret
    content = json.dumps(body).encode()
    at = at or datetime.datetime.now(datetime.UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, content.decode()),
    }
    return {"content": content, "headers": headers}


def status_event(tracking: str, client_code: str, status: str, seq: int, **extra: Any) -> dict[str, Any]:
    at = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC) + datetime.timedelta(minutes=seq)
    return {
        "id": f"msg_test{seq}",
        "type": "shipment.status",
        "tracking_code": tracking,
        "client_code": client_code,
        "status": status,
        "occurred_at": at.isoformat(),
        "seq": seq,
        **extra,
    }


async def test_duplicated_and_shuffled_webhooks_apply_once_and_never_regress(api: Api, shipping: Shipping) -> None:
    order = await shipping.ship(await api.create_order())
    tracking, code = order["shipment"]["tracking_code"], order["code"]
    ladder = ["picked", "in_transit", "out_for_delivery", "delivered"]
    events = [status_event(tracking, code, status, seq) for seq, status in enumerate(ladder, start=1)]
    deliveries = events + random.Random(7).sample(events, len(events))  # every event twice, shuffled
    random.Random(11).shuffle(deliveries)
    outcomes: dict[str, int] = {}
    for event in deliveries:
        response = await api.client.post("/webhooks/couriers/sandbox", **signed(api, event, event["id"]))
        assert response.status_code == 200, response.text
        for outcome, count in response.json().items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    assert outcomes["duplicate"] == 4
    final = await shipping.order(order["id"])
    assert final["status"] == "delivered" and final["shipment"]["status"] == "delivered"
    history = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    courier_events = [e for e in history if e["actor"]["kind"] == "courier"]
    assert len(courier_events) <= outcomes["applied"] <= len(ladder)  # an event applies at most once
    statuses = [e["changes"].get("status", {}).get("after") for e in courier_events]
    assert statuses[-1] == "delivered" and "in_transit" not in statuses[statuses.index("delivered") :]


@pytest.mark.parametrize("forgery", ["unsigned", "wrong-secret", "tampered", "stale"])
async def test_unsigned_forged_or_stale_webhooks_are_401_and_change_nothing(
    api: Api, shipping: Shipping, forgery: str
) -> None:
    order = await shipping.ship(await api.create_order())
    event = status_event(order["shipment"]["tracking_code"], order["code"], "delivered", 9)
    request = signed(api, event, event["id"])
    if forgery == "unsigned":
        request["headers"] = {"content-type": "application/json"}
    elif forgery == "wrong-secret":
        other = Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo3ODkwMTI=")
        at = datetime.datetime.now(datetime.UTC)
        request["headers"]["webhook-signature"] = other.sign(event["id"], at, request["content"].decode())
    elif forgery == "tampered":
        request["content"] = request["content"].replace(b"delivered", b"returned")
    else:
        request = signed(api, event, event["id"], datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10))
    response = await api.client.post("/webhooks/couriers/sandbox", **request)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    after = await shipping.order(order["id"])
    assert (after["status"], after["version"]) == (order["status"], order["version"])
