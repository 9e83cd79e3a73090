"""Contract: the sandbox adapter against the sandbox courier's HTTP API, its signed webhooks included."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec
import pytest
from standardwebhooks import Webhook

from couriers.base import (
    Address,
    Courier,
    Item,
    KeptItem,
    Parcel,
    PermanentCourierError,
    Request,
    Status,
    TransientCourierError,
    WebhookRejected,
)
from couriers.sandbox import (
    SandboxConfig,
    SandboxCourier,
    SandboxServer,
    SandboxServerConfig,
    new_webhook_secret,
    standalone_app,
)
from fakes.sandbox import WebhookRecorder, asgi_transport

pytestmark = pytest.mark.anyio

TOKEN = "sandbox-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
SECRET = new_webhook_secret()
WEBHOOK_URL = "http://orders.test/webhooks/couriers/sandbox"
HCM, DONG_NAI, HA_NOI = 79, 75, 1
DISTANCES_KM = {frozenset({HCM, DONG_NAI}): 30.0, frozenset({HCM, HA_NOI}): 1140.0}
SHIRTS = (
    Item(sku="SHIRT-02", name="Sơ mi", quantity=1, unit_price=350_000, size="M", color="white"),
    Item(sku="SHIRT-02", name="Sơ mi", quantity=1, unit_price=350_000, size="L", color="white"),
    Item(sku="SHIRT-02", name="Sơ mi", quantity=1, unit_price=380_000, size="L", color="blue"),
)
DRESS = Item(sku="DRESS-01", name="Đầm hoa", quantity=1, unit_price=450_000, size="M", color="red")


def distance_km(origin: int, dest: int) -> float:
    return DISTANCES_KM[frozenset({origin, dest})]


def make_parcel(client_code: str = "ORD-1", *, try_on: bool = False, province: int = HCM, **changes: Any) -> Parcel:
    address = Address("12 Lê Lợi", 26743, province, "Sài Gòn", "Hồ Chí Minh")
    items = (DRESS, *SHIRTS) if try_on else (DRESS,)
    fields: dict[str, Any] = {
        "client_code": client_code,
        "recipient_name": "Nguyễn Thị Lan",
        "phones": ("+84901234567", "+842838221234"),
        "address": address,
        "items": items,
        "cod_amount": 860_000 if try_on else 480_000,  # try-on: the dress and the dearest shirt, plus the fee
        "value": 830_000 if try_on else 450_000,
        "fee_payer": "customer",
        "try_on": try_on,
    }
    return Parcel(**(fields | changes))


@dataclass
class Env:
    server: SandboxServer
    courier: SandboxCourier
    http: httpx.AsyncClient
    target: WebhookRecorder

    async def drive(self, tracking_code: str, status: str, **extra: Any) -> httpx.Response:
        body = {"status": status, **extra}
        return await self.http.post(f"/shipments/{tracking_code}/events", json=body, headers=AUTH)

    async def view(self, tracking_code: str) -> dict[str, Any]:
        response = (await self.http.get(f"/shipments/{tracking_code}", headers=AUTH)).raise_for_status()
        return cast("dict[str, Any]", response.json())


def make_server(store_path: Path | None = None) -> SandboxServer:
    config = SandboxServerConfig(
        token=TOKEN, webhook_secret=SECRET, webhook_url=WEBHOOK_URL, webhook_backoff_s=0, store_path=store_path
    )
    return SandboxServer(config, distance_km)


def make_courier(http: httpx.AsyncClient, base_url: str = "http://sandbox") -> SandboxCourier:
    config = SandboxConfig(base_url=base_url, token=TOKEN, webhook_secret=SECRET, origin_province=HCM)
    return SandboxCourier(config, http)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    server, target = make_server(), WebhookRecorder()
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(target)) as webhooks,
        httpx.AsyncClient(transport=asgi_transport(server.app), base_url="http://sandbox") as http,
    ):
        server.set_webhook_client(webhooks)
        target.courier = make_courier(http)
        yield Env(server, target.courier, http, target)


async def test_create_then_detail_shows_the_data(env: Env) -> None:
    assert isinstance(env.courier, Courier)
    created = await env.courier.create(make_parcel())
    assert created.tracking_code.startswith("SBX") and len(created.tracking_code) == 12
    assert (created.status, created.fee) == (Status.CREATED, 20_000)

    remote = await env.courier.detail(created.tracking_code)
    assert (remote.client_code, remote.status, remote.raw_status) == ("ORD-1", Status.CREATED, "created")
    assert (remote.recipient_name, remote.address_line) == ("Nguyễn Thị Lan", "12 Lê Lợi")
    assert remote.phones == ("+84901234567", "+842838221234") and remote.cod_amount == 480_000
    view = await env.view(created.tracking_code)
    assert view["items"] == [msgspec.to_builtins(DRESS)]
    assert view["address"]["ward_code"] == 26743 and view["origin_province"] == HCM
    assert [h["status"] for h in view["history"]] == ["created"]


async def test_duplicate_client_code_is_a_409_and_lookup_finds_the_parcel(env: Env) -> None:
    created = await env.courier.create(make_parcel())
    with pytest.raises(PermanentCourierError) as refused:
        await env.courier.create(make_parcel())
    assert (refused.value.status_code, refused.value.code) == (409, "duplicate-client-code")
    assert created.tracking_code in refused.value.message

    found = await env.courier.lookup("ORD-1")
    assert found is not None and found.tracking_code == created.tracking_code
    assert await env.courier.lookup("ORD-404") is None


async def test_a_lost_create_answer_is_transient_and_lookup_finds_the_parcel(env: Env) -> None:
    env.server.lose_next_create_response()
    with pytest.raises(TransientCourierError) as lost:
        await env.courier.create(make_parcel())
    assert lost.value.status_code == 504
    found = await env.courier.lookup("ORD-1")
    assert found is not None and found.status is Status.CREATED
    assert env.server.calls["create"] == 1 and len(env.server.shipments) == 1


async def test_injected_failures_are_transient_then_calls_succeed(env: Env) -> None:
    created = await env.courier.create(make_parcel())
    env.server.fail_next(1)
    with pytest.raises(TransientCourierError) as failed:
        await env.courier.detail(created.tracking_code)
    assert failed.value.status_code == 500
    assert (await env.courier.detail(created.tracking_code)).tracking_code == created.tracking_code

    # The same over HTTP, as a bench would: a 429 is transient too.
    answer = await env.http.post("/_faults", json={"fail_next": 1, "status_code": 429}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["fail_next"] == 1
    with pytest.raises(TransientCourierError) as throttled:
        await env.courier.quote(HCM, make_parcel())
    assert throttled.value.status_code == 429
    assert env.server.calls["detail"] == 2 and env.server.calls["quote"] == 1


# The sandbox collects exactly cod_amount and bills its fee to the shop; fee_payer only records who pays.
@pytest.mark.parametrize(("payer", "cod"), [("customer", 480_000), ("shop", 450_000)])
async def test_the_sandbox_collects_exactly_our_cod_whoever_pays_the_fee(env: Env, payer: str, cod: int) -> None:
    code = (await env.courier.create(make_parcel(fee_payer=payer, cod_amount=cod))).tracking_code
    view = await env.view(code)
    assert (view["fee_payer"], view["cod_amount"]) == (payer, cod) and view["fee"] > 0
    await env.drive(code, "delivered")
    assert (await env.view(code))["cod_collected"] == cod  # the fee is billed to the shop, not added


async def test_the_address_changes_on_its_own(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    moved = Address("5 Hàng Bài", 70, 1, "Hoàn Kiếm", "Hà Nội")
    await env.courier.update_address(code, make_parcel(recipient_name="Someone Else", address=moved))
    view = await env.view(code)
    assert (view["address"]["line"], view["recipient_name"]) == ("5 Hàng Bài", "Nguyễn Thị Lan")


async def test_recipient_changes_until_the_parcel_is_out_for_delivery(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    await env.courier.update_recipient(code, make_parcel(recipient_name="Trần Văn Minh", phones=("+84912345678",)))
    assert (await env.courier.detail(code)).recipient_name == "Trần Văn Minh"

    assert (await env.drive(code, "picked")).status_code == 200
    await env.courier.update_recipient(code, make_parcel(recipient_name="Lê Thu Hà", phones=("+84987654321",)))
    await env.courier.update_cod(code, 500_000)
    remote = await env.courier.detail(code)
    assert (remote.recipient_name, remote.phones, remote.cod_amount) == ("Lê Thu Hà", ("+84987654321",), 500_000)

    assert (await env.drive(code, "out_for_delivery")).status_code == 200
    with pytest.raises(PermanentCourierError, match="out for delivery") as refused:
        await env.courier.update_recipient(code, make_parcel(recipient_name="Someone Else"))
    assert refused.value.status_code == 409
    with pytest.raises(PermanentCourierError, match="out for delivery"):
        await env.courier.update_cod(code, 1)
    assert (await env.courier.detail(code)).recipient_name == "Lê Thu Hà"

    # A failed delivery opens the parcel to a new address or phone again, as GHN allows.
    assert (await env.drive(code, "delivery_failed")).status_code == 200
    await env.courier.update_recipient(code, make_parcel(phones=("+84900000001",)))


async def test_items_change_before_pickup_and_never_after(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    await env.courier.update_items(code, make_parcel(items=(DRESS, SHIRTS[0])))
    assert [i["sku"] for i in (await env.view(code))["items"]] == ["DRESS-01", "SHIRT-02"]

    await env.drive(code, "picked")
    with pytest.raises(PermanentCourierError, match="cannot change items") as refused:
        await env.courier.update_items(code, make_parcel())
    assert refused.value.status_code == 409
    assert len((await env.view(code))["items"]) == 2


async def test_cancel_before_pickup_only(env: Env) -> None:
    early = (await env.courier.create(make_parcel("ORD-1"))).tracking_code
    await env.courier.cancel(early)
    await env.courier.cancel(early)  # a retried cancel is not an error
    assert (await env.courier.detail(early)).status is Status.CANCELLED

    late = (await env.courier.create(make_parcel("ORD-2"))).tracking_code
    await env.drive(late, "picked")
    with pytest.raises(PermanentCourierError, match="picked") as refused:
        await env.courier.cancel(late)
    assert (refused.value.status_code, refused.value.code) == (409, "not-cancellable")
    assert (await env.courier.detail(late)).status is Status.PICKED


@pytest.mark.parametrize(
    ("province", "weight_g", "fee", "days"),
    [
        (HCM, 500, 20_000, (1, 2)),  # same province
        (HCM, 1_000, 20_000, (1, 2)),
        (DONG_NAI, 1_001, 35_000, (2, 3)),  # the neighbouring region (< 300 km)
        (HA_NOI, 500, 40_000, (3, 5)),  # far
        (HA_NOI, 2_600, 60_000, (3, 5)),  # 1,600 g above the first kg: 4 started steps of 500 g
    ],
)
async def test_quote_zones_and_weight(env: Env, province: int, weight_g: int, fee: int, days: tuple[int, int]) -> None:
    quote = await env.courier.quote(HCM, make_parcel(province=province, weight_g=weight_g))
    assert (quote.courier, quote.service, quote.fee) == ("sandbox", "standard", fee)
    assert quote.expected_delivery is not None
    assert (quote.expected_delivery.min_days, quote.expected_delivery.max_days) == days


async def test_delivered_with_kept_items_sends_a_signed_webhook(env: Env) -> None:
    code = (await env.courier.create(make_parcel(try_on=True))).tracking_code
    assert (await env.drive(code, "picked")).json()["delivered"] is True
    kept = [{"sku": "DRESS-01", "size": "M", "color": "red", "quantity": 1}]
    kept.append({"sku": "SHIRT-02", "size": "L", "color": "blue", "quantity": 1})
    answer = await env.drive(code, "delivered", kept=kept, cod_collected=860_000)
    outcome = answer.json()
    assert [outcome[k] for k in ("status", "seq", "delivered", "attempts")] == ["partially_delivered", 2, True, 1]

    last = env.target.received[-1]
    assert last.headers["webhook-signature"].startswith("v1,") and last.headers["webhook-id"] == outcome["webhook_id"]
    Webhook(SECRET).verify(last.body, dict(last.headers))  # the reference library agrees
    picked, delivered = env.target.events
    assert picked.status is Status.PICKED and picked.kept is None and not picked.partial
    assert delivered.status is Status.PARTIALLY_DELIVERED and delivered.partial
    assert (delivered.tracking_code, delivered.client_code, delivered.raw_status) == (code, "ORD-1", outcome["status"])
    assert delivered.kept == (KeptItem("DRESS-01", 1, "M", "red"), KeptItem("SHIRT-02", 1, "L", "blue"))
    assert delivered.cod_collected == 860_000 and delivered.occurred_at.tzinfo is not None
    assert delivered.event_key == last.headers["webhook-id"]


async def test_cod_collected_defaults(env: Env) -> None:
    whole = (await env.courier.create(make_parcel("ORD-1"))).tracking_code
    await env.drive(whole, "delivered")
    partial = (await env.courier.create(make_parcel("ORD-2", try_on=True))).tracking_code
    await env.drive(partial, "delivered", kept=[{"sku": "SHIRT-02", "size": "M", "color": "white", "quantity": 1}])
    by_code = {e.tracking_code: e for e in env.target.events}
    assert (by_code[whole].status, by_code[whole].cod_collected, by_code[whole].kept) == ("delivered", 480_000, None)
    assert (by_code[partial].status, by_code[partial].cod_collected) == (
        Status.PARTIALLY_DELIVERED,
        380_000,
    )  # and the fee
    view = await env.view(whole)
    assert [h["status"] for h in view["history"] if h["implied"]] == ["picked", "in_transit", "out_for_delivery"]
    assert view["status"] == "delivered" and view["cod_collected"] == 480_000


async def test_a_failing_webhook_target_gets_the_webhook_on_the_third_attempt(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    env.target.answers = [500, 503]
    answer = await env.drive(code, "picked")
    assert (answer.json()["delivered"], answer.json()["attempts"]) == (True, 3)
    assert len({r.headers["webhook-id"] for r in env.target.received}) == 1  # retries carry the same id
    assert len(env.target.events) == 1
    [record] = (await env.view(code))["webhooks"]
    assert [a["status_code"] for a in record["attempts"]] == [500, 503, 204] and record["delivered"] is True

    env.target.answers = [500] * 5
    answer = await env.drive(code, "in_transit")
    assert (answer.json()["delivered"], answer.json()["attempts"]) == (False, 5)


def _signed(body: bytes, message_id: str, secret: str, at: datetime.datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


@pytest.mark.parametrize("tamper", ["forged", "stale", "future", "no-signature", "no-headers", "body", "garbage"])
async def test_unverified_webhooks_are_rejected(env: Env, tamper: str) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    await env.drive(code, "picked")
    genuine = env.target.received[-1]
    now = datetime.datetime.now(datetime.UTC)
    message_id, body = genuine.headers["webhook-id"], genuine.body
    headers = {
        "forged": _signed(body, message_id, new_webhook_secret(), now),
        "stale": _signed(body, message_id, SECRET, now - datetime.timedelta(minutes=5, seconds=10)),
        "future": _signed(body, message_id, SECRET, now + datetime.timedelta(minutes=5, seconds=10)),
        "no-signature": {k: v for k, v in genuine.headers.items() if k != "webhook-signature"},
        "no-headers": {"content-type": "application/json"},
        "body": dict(genuine.headers),
        "garbage": dict(genuine.headers) | {"webhook-signature": "v1"},
    }[tamper]
    if tamper == "body":
        body = body.replace(b'"picked"', b'"delivered"')
    with pytest.raises(WebhookRejected):
        env.courier.parse_webhook(Request(headers=headers, query={}, body=body))


async def test_a_replayed_webhook_has_the_same_event_key(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    await env.drive(code, "picked")
    genuine = env.target.received[-1]
    [first], [again] = env.courier.parse_webhook(genuine), env.courier.parse_webhook(genuine)
    assert first == again and first.event_key == genuine.headers["webhook-id"]


async def test_parcels_only_move_forward(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    refused = await env.drive(code, "returned")
    assert refused.status_code == 409
    await env.drive(code, "picked")
    await env.drive(code, "delivered")
    backwards = await env.drive(code, "picked")
    assert backwards.status_code == 409
    assert backwards.json()["type"].endswith("/invalid-transition") and "delivered" in backwards.json()["detail"]
    assert (await env.courier.detail(code)).status is Status.DELIVERED
    assert len(env.target.received) == 2  # nothing sent for the refused moves


async def test_failed_delivery_then_return(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    for status in ("delivery_failed", "out_for_delivery", "delivery_failed", "returned"):
        assert (await env.drive(code, status)).status_code == 200
    assert [e.status for e in env.target.events][-1] is Status.RETURNED
    assert [h["status"] for h in (await env.view(code))["history"]][-2:] == ["returning", "returned"]
    assert (await env.drive(code, "out_for_delivery")).status_code == 409


@pytest.mark.parametrize(
    ("status", "extra", "problem"),
    [
        ("delivered", {"kept": [{"sku": "HAT-9", "quantity": 1}]}, "not-in-parcel"),
        ("delivered", {"kept": [{"sku": "DRESS-01", "size": "M", "color": "red", "quantity": 2}]}, "kept-too-many"),
        ("delivered", {"kept": []}, "nothing-kept"),
        ("picked", {"cod_collected": 1}, "not-a-delivery"),
        ("lost", {}, "validation"),
    ],
)
async def test_bad_driver_events_are_422(env: Env, status: str, extra: dict[str, Any], problem: str) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    answer = await env.drive(code, status, **extra)
    assert answer.status_code == 422 and answer.json()["type"].endswith("/" + problem)
    assert (await env.courier.detail(code)).status is Status.CREATED and not env.target.received


async def test_the_api_needs_the_token_and_validates_bodies(env: Env) -> None:
    code = (await env.courier.create(make_parcel())).tracking_code
    for headers in ({}, {"authorization": "Bearer wrong"}):
        denied = await env.http.post("/quote", json={"origin_province": 79, "province_code": 1}, headers=headers)
        assert denied.status_code == 401 and denied.headers["content-type"].startswith("application/problem+json")
    assert (await env.http.get(f"/shipments/{code}", headers=AUTH)).status_code == 200
    invalid = await env.http.post("/shipments", json=_create_body() | {"phones": []}, headers=AUTH)
    assert invalid.status_code == 422 and {"type", "title", "status", "detail"} <= invalid.json().keys()
    assert invalid.json()["errors"][0]["field"] == "phones"
    missing = await env.http.post("/shipments", json={"client_code": "X"}, headers=AUTH)
    assert missing.status_code == 422 and "recipient_name" in missing.json()["detail"]
    assert (await env.http.get("/shipments/SBX000000000", headers=AUTH)).status_code == 404


async def test_the_driver_views_need_the_token_or_a_key_the_serving_app_accepts() -> None:
    """A parcel view shows the recipient's phones and address, and a driver event completes an order: neither
    is open. The serving app may accept keys of its own there (the service: its API keys), not on the API."""
    checked: list[str] = []

    async def staff_key(key: str) -> bool:
        checked.append(key)
        return key == "osk_staff"

    config = SandboxServerConfig(token=TOKEN, webhook_secret=SECRET, webhook_backoff_s=0, driver_key=staff_key)
    server = SandboxServer(config, distance_km)
    async with httpx.AsyncClient(transport=asgi_transport(server.app), base_url="http://sandbox") as http:
        code = (await make_courier(http).create(make_parcel())).tracking_code
        for headers in ({}, {"authorization": "Bearer osk_wrong"}, {"authorization": "osk_staff"}):
            assert (await http.get(f"/shipments/{code}", headers=headers)).status_code == 401
            moved = await http.post(f"/shipments/{code}/events", json={"status": "delivered"}, headers=headers)
            assert moved.status_code == 401 and moved.headers["www-authenticate"] == "Bearer"
        assert server.shipments[code].status == "created" and not server.shipments[code].webhooks
        staff = {"authorization": "Bearer osk_staff"}
        quoted = await http.post("/quote", json={"origin_province": 79, "province_code": 1}, headers=staff)
        assert quoted.status_code == 401  # the courier API itself takes its token only
        assert (await http.get(f"/shipments/{code}", headers=staff)).json()["status"] == "created"
        moved = await http.post(f"/shipments/{code}/events", json={"status": "picked"}, headers=staff)
        assert moved.status_code == 200 and server.shipments[code].status == "picked"
        assert (await http.get(f"/shipments/{code}", headers=AUTH)).status_code == 200
    assert "osk_wrong" in checked and "osk_staff" in checked


async def test_parcels_survive_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "sandbox" / "parcels.json"
    first = make_server(store)
    async with httpx.AsyncClient(transport=asgi_transport(first.app)) as http:
        code = (await make_courier(http).create(make_parcel())).tracking_code
    second = make_server(store)
    async with httpx.AsyncClient(transport=asgi_transport(second.app)) as http:
        courier = make_courier(http)
        assert (await courier.detail(code)).recipient_name == "Nguyễn Thị Lan"
        with pytest.raises(PermanentCourierError, match=code):
            await courier.create(make_parcel())


async def test_the_standalone_app_serves_under_sandbox_courier(env: Env) -> None:
    app = standalone_app(env.server)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url="http://sandbox") as http:
        courier = make_courier(http, "http://sandbox/sandbox-courier")
        code = (await courier.create(make_parcel())).tracking_code
        assert (await courier.detail(code)).tracking_code == code
        moved = await http.post(f"/sandbox-courier/shipments/{code}/events", json={"status": "picked"}, headers=AUTH)
        assert moved.status_code == 200 and env.target.events[-1].status is Status.PICKED
        assert (await http.get(f"/shipments/{code}", headers=AUTH)).status_code == 404


def _create_body() -> dict[str, Any]:
    address = {"line": "1 Hai Bà Trưng", "ward_code": 26743, "province_code": HCM}
    item = {"sku": "DRESS-01", "name": "Đầm", "quantity": 1, "unit_price": 450_000}
    body = {"client_code": "RAW-1", "recipient_name": "Lan", "phones": ["+84901234567"], "address": address}
    return body | {"items": [item], "cod_amount": 450_000, "origin_province": HCM}
