"""The Viettel Post adapter against the VTP fake: login, the exact create, price, cancel rules, errors, webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

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
from couriers.viettelpost import STATUSES, VtpConfig, VtpCourier
from couriers.viettelpost.payloads import FEE_FIELDS
from fakes.viettelpost.server import FakeViettelPost

pytestmark = pytest.mark.anyio

BASE = "https://partnerdev.viettelpost.vn"
HOOK_TOKEN = "vtp-hook-token"
VTP_IDS = {"province_id": 32, "district_id": 350, "ward_id": 5120}  # Đà Nẵng's ids at VTP, from the address map
SHOP = Shop("Lan Boutique", "+84901112233", Address("12 Lê Lợi", 26734, 79, "Phường Sài Gòn", "Thành phố Hồ Chí Minh"))
DA_NANG = Address("45 Bạch Đằng", 20194, 48, "Phường Hải Châu", "Thành phố Đà Nẵng", VTP_IDS)
DRESS_M = Item("VAY-HOA-M", "Váy hoa", 1, 350_000, size="M", color="Đỏ")
DRESS_L = Item("VAY-HOA-L", "Váy hoa", 1, 350_000, size="L", color="Đỏ")
PHONES = ("+84912345678", "+84987654321")
PARCEL = Parcel(
    "ORD-1001", "Nguyễn Thị Hoa", PHONES, DA_NANG, (DRESS_M, DRESS_L), 730_000, 700_000, "customer", weight_g=800
)


def parcel(**changes: Any) -> Parcel:
    return msgspec.structs.replace(PARCEL, **changes)


def config(**changes: Any) -> VtpConfig:
    values: dict[str, Any] = {
        "token": "vtp-token",
        "shop": SHOP,
        "webhook_secret": HOOK_TOKEN,
        "base_url": BASE,
        "groupaddress_id": 5_818_802,
        "cus_id": 722,
        "sender_units": (2, 43, 700),
    }
    return VtpConfig(**(values | changes))


@pytest.fixture
def fake() -> FakeViettelPost:
    return FakeViettelPost()


@pytest.fixture
async def client(fake: FakeViettelPost) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE) as made:
        yield made


@pytest.fixture
def courier(client: httpx.AsyncClient) -> VtpCourier:
    return VtpCourier(config(), client)


def hook(payload: Any, **headers: str) -> Request:
    return Request(headers=headers, query={}, body=json.dumps(payload).encode())


async def test_implements_the_protocol(courier: VtpCourier) -> None:
    assert isinstance(courier, Courier)
    assert (courier.name, courier.capabilities) == ("viettelpost", CAPABILITIES["viettelpost"])
    assert courier.capabilities.recreate_before_pickup and not courier.capabilities.after_pickup


async def test_create_sends_the_exact_request(courier: VtpCourier, fake: FakeViettelPost) -> None:
    created = await courier.create(parcel(try_on=True, note="Gọi trước khi giao"))

    [call] = fake.calls
    assert (call.method, call.path, call.headers["token"]) == ("POST", "/v2/order/createOrder", "vtp-token")
    assert call.body == {
        "ORDER_NUMBER": "ORD-1001",
        "GROUPADDRESS_ID": 5_818_802,
        "CUS_ID": 722,
        "SENDER_FULLNAME": "Lan Boutique",
        "SENDER_ADDRESS": "12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
        "SENDER_PHONE": "0901112233",
        "SENDER_PROVINCE": 2,
        "SENDER_DISTRICT": 43,
        "SENDER_WARD": 700,
        "RECEIVER_FULLNAME": "Nguyễn Thị Hoa",
        "RECEIVER_ADDRESS": "45 Bạch Đằng, Phường Hải Châu, Thành phố Đà Nẵng",
        "RECEIVER_PHONE": "0912345678",
        "RECEIVER_PROVINCE": 32,
        "RECEIVER_DISTRICT": 350,
        "RECEIVER_WARD": 5120,
        "PRODUCT_NAME": "Váy hoa (M, Đỏ) x1; Váy hoa (L, Đỏ) x1",
        "PRODUCT_QUANTITY": 2,
        "PRODUCT_PRICE": 700_000,
        "PRODUCT_WEIGHT": 800,
        "PRODUCT_TYPE": "HH",
        "ORDER_SERVICE": "VCN",
        "ORDER_SERVICE_ADD": "",
        "ORDER_NOTE": "Cho xem hàng, cho thử. Gọi trước khi giao. SĐT khác: 0987654321",
        "ORDER_PAYMENT": 3,
        "MONEY_COLLECTION": 730_000,
        "LIST_ITEM": [
            {"PRODUCT_NAME": "Váy hoa (M, Đỏ)", "PRODUCT_PRICE": 350_000, "PRODUCT_WEIGHT": 400, "PRODUCT_QUANTITY": 1},
            {"PRODUCT_NAME": "Váy hoa (L, Đỏ)", "PRODUCT_PRICE": 350_000, "PRODUCT_WEIGHT": 400, "PRODUCT_QUANTITY": 1},
        ],
    }
    stored = fake.orders[created.tracking_code]
    # Inter-province, 800 g: 32,000 + one 500 g step, 1 % COD fee, 10 % VAT.
    assert (created.status, created.fee, stored.status) == (Status.CREATED, (37_000 + 7_300) * 11 // 10, 100)
    assert stored.reference == "ORD-1001" and stored.buyer_pays == 730_000  # no fee on top of our COD


@pytest.mark.parametrize(("payer", "cod", "payment"), [("customer", 330_000, 3), ("shop", 300_000, 3), ("shop", 0, 1)])
async def test_the_buyer_pays_exactly_our_cod_whoever_pays_the_fee(
    courier: VtpCourier, fake: FakeViettelPost, payer: str, cod: int, payment: int
) -> None:
    code = (await courier.create(parcel(fee_payer=payer, cod_amount=cod))).tracking_code
    assert (fake.calls[-1].body["ORDER_PAYMENT"], fake.calls[-1].body["MONEY_COLLECTION"]) == (payment, cod)
    assert fake.orders[code].buyer_pays == cod
    fake.orders[code].fields["ORDER_PAYMENT"] = 2  # what "collect goods + fee" would make the buyer pay
    assert fake.orders[code].buyer_pays > cod or cod == 0
    assert set(FEE_FIELDS) == {"customer", "shop"}
    assert all(name in CAPABILITIES["viettelpost"].fee for fields in FEE_FIELDS.values() for name in fields)


async def test_an_unmapped_ward_is_refused_before_any_call(courier: VtpCourier, fake: FakeViettelPost) -> None:
    with pytest.raises(PermanentCourierError, match=r"Phường Hải Châu.*addresses/20194"):
        await courier.create(parcel(address=msgspec.structs.replace(DA_NANG, courier_ids=None)))
    assert fake.calls == []


async def test_username_and_password_log_in_and_again_when_the_token_expires(
    client: httpx.AsyncClient, fake: FakeViettelPost
) -> None:
    courier = VtpCourier(config(token="", username="shop@example.vn", password="vtp-pass"), client)
    await courier.create(parcel())
    assert [c.path for c in fake.calls] == ["/v2/user/Login", "/v2/order/createOrder"]
    assert fake.calls[0].body == {"USERNAME": "shop@example.vn", "PASSWORD": "vtp-pass"}
    fake.expire_tokens()
    await courier.create(parcel(client_code="ORD-1002"))
    assert [c.path for c in fake.calls[2:]] == ["/v2/order/createOrder", "/v2/user/Login", "/v2/order/createOrder"]
    assert len(fake.orders) == 2


async def test_a_refused_token_without_credentials_is_permanent(courier: VtpCourier, fake: FakeViettelPost) -> None:
    fake.expire_tokens()
    with pytest.raises(PermanentCourierError) as caught:
        await courier.create(parcel())
    assert caught.value.status_code == 401 and not fake.orders
    with pytest.raises(ValueError, match="token, or a username"):
        config(token="")


async def test_cancel_before_pickup_and_its_refusal_after(courier: VtpCourier, fake: FakeViettelPost) -> None:
    first = (await courier.create(parcel())).tracking_code
    await courier.cancel(first)
    assert fake.calls[-1].body == {"TYPE": 4, "ORDER_NUMBER": first, "NOTE": "Shop hủy đơn"}
    assert fake.orders[first].status == 107
    await courier.cancel(first)  # a cancel retried after a lost answer is not an error

    second = (await courier.create(parcel(client_code="ORD-1001-2"))).tracking_code
    fake.set_status(second, 105)  # the postman has it
    with pytest.raises(PermanentCourierError, match="105") as caught:
        await courier.cancel(second)
    assert caught.value.status_code == 200 and fake.orders[second].status == 105


async def test_there_is_no_amend_and_no_read_back(courier: VtpCourier) -> None:
    for call in (
        courier.update_recipient("1", PARCEL),
        courier.update_address("1", PARCEL),
        courier.update_cod("1", 1),
        courier.update_items("1", PARCEL),
    ):
        with pytest.raises(PermanentCourierError, match="no field-level amend API"):
            await call
    with pytest.raises(PermanentCourierError, match="no order-status endpoint"):
        await courier.detail("1")
    assert await courier.lookup("ORD-1001") is None


async def test_a_repeated_order_number_is_refused(courier: VtpCourier, fake: FakeViettelPost) -> None:
    fake.lose_next_create_response()
    with pytest.raises(TransientCourierError) as lost:
        await courier.create(parcel())
    assert lost.value.status_code == 504
    with pytest.raises(PermanentCourierError, match="đã tồn tại"):
        await courier.create(parcel())
    assert len(fake.orders) == 1


@pytest.mark.parametrize("status_code", [500, 502, 503, 429])
async def test_server_errors_are_transient(courier: VtpCourier, fake: FakeViettelPost, status_code: int) -> None:
    fake.fail_next(1, status_code)
    with pytest.raises(TransientCourierError) as caught:
        await courier.create(parcel())
    assert caught.value.status_code == status_code and not fake.orders
    assert (await courier.create(parcel())).tracking_code


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ConnectError("down")])
async def test_timeouts_and_network_errors_are_transient(
    courier: VtpCourier, fake: FakeViettelPost, error: httpx.TransportError
) -> None:
    fake.break_next(error)
    with pytest.raises(TransientCourierError):
        await courier.cancel("1")


async def test_vtp_refusals_carry_its_message(courier: VtpCourier, fake: FakeViettelPost) -> None:
    with pytest.raises(PermanentCourierError, match="RECEIVER_PHONE"):
        await courier.create(parcel(phones=("+8491234",)))
    with pytest.raises(PermanentCourierError, match="Dịch vụ XYZ"):
        await VtpCourier(config(service="XYZ"), courier._client).create(parcel())


async def test_quote_prices_the_route_through_get_price(courier: VtpCourier, fake: FakeViettelPost) -> None:
    quote = await courier.quote(79, parcel())
    assert fake.calls[-1].path == "/v2/order/getPrice"
    assert fake.calls[-1].body["RECEIVER_DISTRICT"] == 350 and fake.calls[-1].body["SENDER_DISTRICT"] == 43
    assert (quote.courier, quote.fee, quote.expected_delivery) == ("viettelpost", (37_000 + 7_300) * 11 // 10, None)
    with pytest.raises(PermanentCourierError, match="shop's province 79"):
        await courier.quote(1, parcel())


async def test_webhooks_map_statuses_and_the_cod_collected(courier: VtpCourier, fake: FakeViettelPost) -> None:
    code = (await courier.create(parcel())).tracking_code
    seen = []
    for status in (105, 200, 300, 500, 506, 501):
        [event] = courier.parse_webhook(hook(fake.set_status(code, status)))
        seen.append((event.status, event.raw_status, event.cod_collected))
        assert (event.tracking_code, event.client_code, event.courier) == (code, "ORD-1001", "viettelpost")
    assert seen == [
        (Status.PICKED, "105", None),
        (Status.PICKED, "200", None),
        (Status.IN_TRANSIT, "300", None),
        (Status.OUT_FOR_DELIVERY, "500", None),
        (Status.DELIVERY_FAILED, "506", None),
        (Status.DELIVERED, "501", 730_000),
    ]
    again = courier.parse_webhook(hook(fake.pending_webhooks[-1]))
    assert again[0].event_key == courier.parse_webhook(hook(fake.pending_webhooks[-1]))[0].event_key
    assert str(again[0].occurred_at.utcoffset()) == "7:00:00"


@pytest.mark.parametrize(
    "change",
    [{"TOKEN": "wrong"}, {"TOKEN": ""}, {"DATA": {"ORDER_STATUS": 999}}, {"DATA": {"ORDER_STATUSDATE": "2025-08-01"}}],
)
async def test_forged_or_malformed_webhooks_are_rejected(
    courier: VtpCourier, fake: FakeViettelPost, change: dict[str, Any]
) -> None:
    code = (await courier.create(parcel())).tracking_code
    payload = fake.set_status(code, 501)
    payload = {**payload, **{k: v for k, v in change.items() if k != "DATA"}}
    payload["DATA"] = {**payload["DATA"], **change.get("DATA", {})}
    with pytest.raises(WebhookRejected):
        courier.parse_webhook(hook(payload))
    with pytest.raises(WebhookRejected):
        courier.parse_webhook(Request(headers={}, query={}, body=b"not json"))


async def test_a_verified_amount_out_of_range_names_the_field(courier: VtpCourier, fake: FakeViettelPost) -> None:
    payload = fake.set_status((await courier.create(parcel())).tracking_code, 501)
    payload["DATA"]["MONEY_COLLECTION"] = 10**25
    with pytest.raises(WebhookFieldInvalid) as caught:
        courier.parse_webhook(hook(payload))
    assert caught.value.field == "DATA.MONEY_COLLECTION"
    payload["TOKEN"] = "forged"
    with pytest.raises(WebhookRejected):  # a forged one learns nothing of which field is wrong
        courier.parse_webhook(hook(payload))


def test_every_documented_status_is_mapped() -> None:
    documented = {-100, *range(100, 108), 200, 201, 202, *range(300, 304), *range(400, 404), *range(500, 511)}
    assert documented | {515, 550} == set(STATUSES)
