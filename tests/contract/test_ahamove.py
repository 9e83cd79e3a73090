"""The Ahamove adapter against the Ahamove fake: service area, the exact create, estimate, amend and cancel rules,
errors, and the webhook with each auth method the partner may register."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from couriers.ahamove import AhamoveConfig, AhamoveCourier, parse_services
from couriers.ahamove.payloads import FEE_FIELDS
from couriers.base import (
    Address,
    Courier,
    Item,
    Parcel,
    PermanentCourierError,
    Request,
    Shop,
    Status,
    TransientCourierError,
    WebhookFieldInvalid,
    WebhookRejected,
)
from couriers.capabilities import CAPABILITIES
from fakes.ahamove.server import FakeAhamove

pytestmark = pytest.mark.anyio

V3, V1 = "https://partner-apistg.ahamove.com", "https://apistg.ahamove.com"
SHOP = Shop("Lan Boutique", "+84901112233", Address("12 Lê Lợi", 26734, 79, "Phường Sài Gòn", "Thành phố Hồ Chí Minh"))
BEN_THANH = Address(
    "5 Lê Thánh Tôn", 26743, 79, "Phường Bến Thành", "Thành phố Hồ Chí Minh", {"lat": 10.77, "lng": 106.7}
)
HANOI = Address("5 Hàng Bài", 70, 1, "Phường Hoàn Kiếm", "Thành phố Hà Nội")
DRESS = Item("VAY-HOA-M", "Váy hoa", 1, 350_000, size="M", color="Đỏ")
PHONES = ("+84912345678", "+84987654321")
PARCEL = Parcel("ORD-2001", "Nguyễn Thị Hoa", PHONES, BEN_THANH, (DRESS,), 380_000, 350_000, "customer")
ONWHEEL = {79: "VNM-PARTNER-SGN"}


def parcel(**changes: Any) -> Parcel:
    return msgspec.structs.replace(PARCEL, **changes)


def config(**changes: Any) -> AhamoveConfig:
    values: dict[str, Any] = {
        "token": "aha-token",
        "shop": SHOP,
        "webhook_secret": "aha-hook",
        "base_url": V3,
        "v1_base_url": V1,
    }
    return AhamoveConfig(**(values | changes))


@pytest.fixture
def fake() -> FakeAhamove:
    return FakeAhamove()


@pytest.fixture
async def client(fake: FakeAhamove) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport()) as made:
        yield made


@pytest.fixture
def courier(client: httpx.AsyncClient) -> AhamoveCourier:
    return AhamoveCourier(config(), client)


def hook(payload: Any, **headers: str) -> Request:
    return Request(headers=headers, query={}, body=json.dumps(payload).encode())


async def test_implements_the_protocol(courier: AhamoveCourier) -> None:
    assert isinstance(courier, Courier)
    assert (courier.name, courier.capabilities) == ("ahamove", CAPABILITIES["ahamove"])
    assert not courier.capabilities.recreate_before_pickup and not courier.capabilities.after_pickup


async def test_create_sends_the_exact_request(courier: AhamoveCourier, fake: FakeAhamove) -> None:
    created = await courier.create(parcel(note="Gọi trước"))

    [call] = fake.calls
    assert (call.method, call.path, call.headers["authorization"]) == ("POST", "/v3/orders", "Bearer aha-token")
    remarks = "Cho xem hàng, không cho thử. Gọi trước. SĐT khác: 0987654321"
    assert call.body == {
        "order_time": 0,
        "service_id": "SGN-BIKE",
        "path": [
            {
                "address": "12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
                "short_address": "12 Lê Lợi",
                "name": "Lan Boutique",
                "mobile": "0901112233",
            },
            {
                "address": "5 Lê Thánh Tôn, Phường Bến Thành, Thành phố Hồ Chí Minh",
                "short_address": "5 Lê Thánh Tôn",
                "name": "Nguyễn Thị Hoa",
                "mobile": "0912345678",
                "cod": 380_000,
                "item_value": 350_000,
                "tracking_number": "ORD-2001",
                "remarks": remarks,
                "lat": 10.77,
                "lng": 106.7,
            },
        ],
        "requests": [],
        "items": [{"_id": "VAY-HOA-M", "num": 1, "name": "Váy hoa (M, Đỏ)", "price": 350_000}],
        "remarks": remarks,
        "payment_method": "BALANCE",
    }
    order = fake.orders[created.tracking_code]
    assert (created.status, created.fee, order["status"]) == (Status.CREATED, 15_000 + 8_000 + 3_040, "ASSIGNING")


@pytest.mark.parametrize("payer", ["customer", "shop"])
async def test_the_driver_collects_exactly_our_cod_and_the_fee_comes_from_the_balance(
    courier: AhamoveCourier, fake: FakeAhamove, payer: str
) -> None:
    await courier.create(parcel(fee_payer=payer))
    assert (fake.calls[-1].body["payment_method"], fake.calls[-1].body["path"][1]["cod"]) == ("BALANCE", 380_000)
    assert set(FEE_FIELDS) == {"customer", "shop"}
    assert all(name in CAPABILITIES["ahamove"].fee for fields in FEE_FIELDS.values() for name in fields)


async def test_outside_the_service_area_is_refused_before_any_call(
    client: httpx.AsyncClient, fake: FakeAhamove
) -> None:
    with pytest.raises(PermanentCourierError, match="within Thành phố Hồ Chí Minh only, not to Thành phố Hà Nội"):
        await AhamoveCourier(config(), client).create(parcel(address=HANOI))
    da_nang = msgspec.structs.replace(SHOP, address=msgspec.structs.replace(SHOP.address, province_code=48))
    with pytest.raises(PermanentCourierError, match=r"configured for provinces \[1, 79\]"):
        await AhamoveCourier(config(shop=da_nang), client).quote(48, parcel())
    assert fake.calls == []
    assert parse_services("79:SGN-BIKE, 1:HAN-BIKE") == {79: "SGN-BIKE", 1: "HAN-BIKE"}
    with pytest.raises(ValueError, match="province:service_id"):
        parse_services("SGN-BIKE")


async def test_estimate_is_the_quote(courier: AhamoveCourier, fake: FakeAhamove) -> None:
    quote = await courier.quote(79, parcel())
    assert fake.calls[-1].path == "/v3/orders/estimates"
    assert fake.calls[-1].body["services"] == [{"_id": "SGN-BIKE", "requests": []}]
    assert (quote.courier, quote.service, quote.fee) == ("ahamove", "SGN-BIKE", 15_000 + 8_000 + 3_040)
    assert (quote.expected_delivery.min_days, quote.expected_delivery.max_days) == (0, 0)  # type: ignore[union-attr]


async def test_the_recipient_changes_in_place_while_waiting_for_a_driver(
    courier: AhamoveCourier, fake: FakeAhamove
) -> None:
    code = (await courier.create(parcel())).tracking_code
    fake.set_status(code, "ACCEPTED")
    await courier.update_recipient(code, parcel(recipient_name="Chị Hoa", phones=("+84977000111",)))
    await courier.update_recipient(code, parcel(recipient_name="Chị Lan"))  # unlimited
    call = fake.calls[-1]
    assert (call.method, call.path) == ("PATCH", f"/v3/orders/{code}")
    assert call.body == {
        "path_index": 1,
        "name": "Chị Lan",
        "mobile": "0912345678",
        "remarks": "Cho xem hàng, không cho thử. SĐT khác: 0987654321",
    }
    assert fake.orders[code]["path"][1]["name"] == "Chị Lan"
    fake.set_status(code, "IN PROCESS")  # the driver has it
    with pytest.raises(PermanentCourierError, match="IN PROCESS") as caught:
        await courier.update_recipient(code, parcel(recipient_name="Chị Mai"))
    assert caught.value.status_code == 406


async def test_cod_and_address_change_once_and_only_on_onwheel(client: httpx.AsyncClient, fake: FakeAhamove) -> None:
    bike = AhamoveCourier(config(), client)
    code = (await bike.create(parcel())).tracking_code
    with pytest.raises(PermanentCourierError, match="OnWheel"):
        await bike.update_cod(code, 300_000)
    with pytest.raises(PermanentCourierError, match="items"):
        await bike.update_items(code, parcel())

    onwheel = AhamoveCourier(config(services=ONWHEEL), client)
    code = (await onwheel.create(parcel())).tracking_code
    await onwheel.update_cod(code, 300_000)
    await onwheel.update_address(code, parcel(address=msgspec.structs.replace(BEN_THANH, line="9 Pasteur")))
    assert fake.orders[code]["path"][1]["cod"] == 300_000
    assert fake.orders[code]["path"][1]["address"].startswith("9 Pasteur")
    with pytest.raises(PermanentCourierError, match="already changed once"):
        await onwheel.update_cod(code, 250_000)
    with pytest.raises(PermanentCourierError, match="within"):
        await onwheel.update_address(code, parcel(address=HANOI))
    assert fake.orders[code]["path"][1]["cod"] == 300_000


async def test_cancel_rules_and_a_cancel_retried_after_a_lost_answer(
    courier: AhamoveCourier, fake: FakeAhamove
) -> None:
    code = (await courier.create(parcel())).tracking_code
    fake.set_status(code, "ACCEPTED")
    await courier.cancel(code)
    call = fake.calls[-1]
    assert (call.method, call.path) == ("GET", "/v1/order/cancel")
    assert call.query == {"token": "aha-token", "order_id": code, "comment": "Shop hủy đơn", "cancel_code": "OTHER"}
    assert fake.orders[code]["status"] == "CANCELLED"
    await courier.cancel(code)  # 406 for a cancelled order, read back: done already

    second = (await courier.create(parcel(client_code="ORD-2002"))).tracking_code
    fake.set_status(second, "IN PROCESS")
    with pytest.raises(PermanentCourierError, match="cannot be cancelled") as caught:
        await courier.cancel(second)
    assert caught.value.status_code == 406 and fake.orders[second]["status"] == "IN PROCESS"
    with pytest.raises(PermanentCourierError) as missing:
        await courier.cancel("NOPE")
    assert missing.value.status_code == 404


async def test_accepted_orders_need_a_cancel_code(client: httpx.AsyncClient, fake: FakeAhamove) -> None:
    courier = AhamoveCourier(config(cancel_code=""), client)
    code = (await courier.create(parcel())).tracking_code
    fake.set_status(code, "ACCEPTED")
    with pytest.raises(PermanentCourierError, match="cancel_code") as caught:
        await courier.cancel(code)
    assert caught.value.status_code == 402


async def test_detail_reads_the_order_and_its_drop_point(courier: AhamoveCourier, fake: FakeAhamove) -> None:
    code = (await courier.create(parcel())).tracking_code
    fake.set_status(code, "COMPLETED", "COMPLETED")
    remote = await courier.detail(code)
    assert (remote.status, remote.raw_status, remote.cod_amount) == (Status.DELIVERED, "COMPLETED/COMPLETED", 380_000)
    assert (remote.client_code, remote.phones) == ("ORD-2001", ("+84912345678",))
    assert await courier.lookup("ORD-2001") is None  # §7: no lookup by our code


@pytest.mark.parametrize("status_code", [500, 503, 429])
async def test_server_errors_are_transient(courier: AhamoveCourier, fake: FakeAhamove, status_code: int) -> None:
    fake.fail_next(1, status_code)
    with pytest.raises(TransientCourierError) as caught:
        await courier.create(parcel())
    assert caught.value.status_code == status_code and not fake.orders


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ConnectError("down")])
async def test_timeouts_and_network_errors_are_transient(
    courier: AhamoveCourier, fake: FakeAhamove, error: httpx.TransportError
) -> None:
    fake.break_next(error)
    with pytest.raises(TransientCourierError):
        await courier.create(parcel())


async def test_refusals_carry_ahamoves_words(client: httpx.AsyncClient, fake: FakeAhamove) -> None:
    with pytest.raises(PermanentCourierError, match="Token not found") as caught:
        await AhamoveCourier(config(token="expired"), client).create(parcel())
    assert (caught.value.status_code, caught.value.code) == (401, "NOT_AUTHORIZED")
    with pytest.raises(PermanentCourierError, match="cod must be from 0") as cod:
        await AhamoveCourier(config(), client).create(parcel(cod_amount=20_000_000))
    assert cod.value.code == "INVALID_COD" and not fake.orders


async def test_webhooks_map_order_and_drop_statuses(courier: AhamoveCourier, fake: FakeAhamove) -> None:
    code = (await courier.create(parcel())).tracking_code
    auth = {"apikey": "aha-hook"}
    steps = [("ACCEPTED", None), ("IN PROCESS", None), ("IN PROCESS", "FAILED"), ("COMPLETED", "FAILED")]
    seen = []
    for status, point in steps:
        [event] = courier.parse_webhook(hook(fake.set_status(code, status, point), **auth))
        seen.append((event.status, event.raw_status))
        assert (event.tracking_code, event.client_code) == (code, "ORD-2001")
    assert seen == [
        (Status.CREATED, "ACCEPTED"),
        (Status.OUT_FOR_DELIVERY, "IN PROCESS"),
        (Status.RETURNING, "IN PROCESS/FAILED"),
        (Status.RETURNED, "COMPLETED/FAILED"),
    ]
    second = (await courier.create(parcel(client_code="ORD-2003"))).tracking_code
    [done] = courier.parse_webhook(hook(fake.set_status(second, "COMPLETED", "COMPLETED"), **auth))
    assert (done.status, done.cod_collected) == (Status.DELIVERED, 380_000)
    assert done.event_key == courier.parse_webhook(hook(fake.pending_webhooks[-1], **auth))[0].event_key


@pytest.mark.parametrize(
    ("method", "secret", "headers"),
    [
        ("bearer", "tok", {"authorization": "Bearer tok"}),
        ("basic", "shop:pw", {"authorization": "Basic " + base64.b64encode(b"shop:pw").decode()}),
        ("apikey", "k1", {"x-aha-key": "k1"}),
    ],
)
async def test_each_registered_auth_method_is_checked(
    client: httpx.AsyncClient, fake: FakeAhamove, method: str, secret: str, headers: dict[str, str]
) -> None:
    courier = AhamoveCourier(config(webhook_auth=method, webhook_secret=secret, webhook_header="X-Aha-Key"), client)
    payload = fake.set_status((await courier.create(parcel())).tracking_code, "ACCEPTED")
    assert courier.parse_webhook(hook(payload, **headers))[0].status is Status.CREATED
    for forged in ({}, {k: v + "x" for k, v in headers.items()}):
        with pytest.raises(WebhookRejected):
            courier.parse_webhook(hook(payload, **forged))
    with pytest.raises(ValueError, match="webhook_auth"):
        config(webhook_auth="hmac")


async def test_malformed_and_out_of_range_webhooks(courier: AhamoveCourier, fake: FakeAhamove) -> None:
    payload = fake.set_status((await courier.create(parcel())).tracking_code, "COMPLETED", "COMPLETED")
    auth = {"apikey": "aha-hook"}
    for bad in (b"not json", json.dumps({**payload, "status": "TELEPORTED"}).encode()):
        with pytest.raises(WebhookRejected):
            courier.parse_webhook(Request(headers=auth, query={}, body=bad))
    payload["path"][1]["cod"] = 10**25
    with pytest.raises(WebhookFieldInvalid) as caught:
        courier.parse_webhook(hook(payload, **auth))
    assert caught.value.field == "path[1].cod"
    with pytest.raises(WebhookRejected):  # a forged one learns nothing of which field is wrong
        courier.parse_webhook(hook(payload, apikey="forged"))


async def test_a_refused_cancel_stays_refused_when_the_order_cannot_be_read(
    courier: AhamoveCourier, fake: FakeAhamove
) -> None:
    code = (await courier.create(parcel())).tracking_code
    fake.set_status(code, "IN PROCESS")
    fake.read_endpoint = False  # [G] GET /v3/orders/{id} is a guess: without it, Ahamove's 406 is the answer
    with pytest.raises(PermanentCourierError, match="cannot be cancelled") as caught:
        await courier.cancel(code)
    assert caught.value.status_code == 406 and fake.calls[-1].path == f"/v3/orders/{code}"
