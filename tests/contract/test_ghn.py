"""Contract tests: the GHN adapter against the fake GHN gateway, request by request."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from couriers.base import (
    Address,
    Courier,
    Created,
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
from couriers.ghn import GhnConfig, GhnCourier
from couriers.ghn.statuses import STATUSES
from fakes.ghn.server import FakeGhn

pytestmark = pytest.mark.anyio

BASE = "http://ghn.test/shiip/public-api"
TOKEN, SHOP_ID, SECRET = "token-123", 885_001, "hook-secret"
# Address(line, ward_code, province_code, ward_name, province_name, courier_ids)
HCM = Address("1 Lê Lợi", 26743, 79, "Phường Sài Gòn", "Hồ Chí Minh", {"district_id": 1442, "ward_code": "20109"})
HANOI = Address("12 Phố Huế", 9, 1, "Phường Hai Bà Trưng", "Hà Nội")
SHOP = Shop(name="Cửa hàng Mai", phone="+842838221234", address=HCM)
PARCEL = Parcel(
    client_code="ORD-1-v1",
    recipient_name="Nguyễn Thị Lan",
    phones=("+84912345678", "+84987654321"),
    address=HANOI,
    items=(Item(sku="AO-1", name="Áo thun", quantity=2, unit_price=150_000, size="M", color="Đỏ"),),
    cod_amount=330_000,
    value=300_000,
    fee_payer="customer",
    weight_g=1_200,
    note="Gọi trước khi giao",
)
# Written out here, not read from couriers.ghn.statuses, so that a change to the table has to change a test.
EXPECTED = {
    **dict.fromkeys(("ready_to_pick", "picking", "money_collect_picking"), Status.CREATED),
    "picked": Status.PICKED,
    **dict.fromkeys(("storing", "transporting", "sorting", "exception"), Status.IN_TRANSIT),
    **dict.fromkeys(("delivering", "money_collect_delivering"), Status.OUT_FOR_DELIVERY),
    "delivered": Status.DELIVERED,
    **dict.fromkeys(("delivery_fail", "waiting_to_return", "lost", "damage"), Status.DELIVERY_FAILED),
    **dict.fromkeys(("return", "return_transporting", "return_sorting", "returning", "return_fail"), Status.RETURNING),
    "returned": Status.RETURNED,
    "cancel": Status.CANCELLED,
}


def config(**overrides: Any) -> GhnConfig:
    settings: dict[str, Any] = {"token": TOKEN, "shop_id": SHOP_ID, "webhook_secret": SECRET, "base_url": BASE}
    return GhnConfig(shop=SHOP, **(settings | overrides))


def connect(fake: FakeGhn, **overrides: Any) -> GhnCourier:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE)  # type: ignore[arg-type]
    return GhnCourier(config(**overrides), client)


def parcel(**changes: Any) -> Parcel:
    return msgspec.structs.replace(PARCEL, **changes)


@pytest.fixture
def fake() -> FakeGhn:
    return FakeGhn(token=TOKEN, shop_id=SHOP_ID)


async def created(fake: FakeGhn) -> tuple[GhnCourier, str]:
    courier = connect(fake)
    return courier, (await courier.create(PARCEL)).tracking_code


async def webhooks(fake: FakeGhn, query: str = f"?token={SECRET}") -> list[Request]:
    """Deliver the fake's queued webhooks to a receiver that records them as the endpoint would see them."""
    received: list[Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        received.append(Request(headers=headers, query=dict(request.url.params), body=request.content))
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        await fake.deliver_webhooks(client, f"https://shop.test/webhooks/ghn{query}", interval_s=0)
    return received


async def test_create_sends_the_exact_request(fake: FakeGhn) -> None:
    result = await connect(fake).create(PARCEL)
    path, headers, body = fake.calls[-1]
    assert path == "/v2/shipping-order/create"
    assert (headers["token"], headers["shopid"], headers["content-type"]) == (TOKEN, str(SHOP_ID), "application/json")
    assert body == {
        "client_order_code": "ORD-1-v1",
        "payment_type_id": 1,  # the customer pays the fee through our COD, not GHN's payment type
        "required_note": "KHONGCHOXEMHANG",
        "service_type_id": 2,
        "from_name": "Cửa hàng Mai",
        "from_phone": "02838221234",
        "from_address": "1 Lê Lợi",
        "from_ward_name": "Phường Sài Gòn",
        "from_province_name": "Hồ Chí Minh",
        "to_name": "Nguyễn Thị Lan",
        "to_phone": "0912345678",
        "to_address": "12 Phố Huế",
        "to_ward_name": "Phường Hai Bà Trưng",
        "to_province_name": "Hà Nội",
        "note": "SĐT khác: 0987654321; Gọi trước khi giao",
        "cod_amount": 330_000,
        "items": [{"name": "Áo thun (M, Đỏ)", "code": "AO-1", "quantity": 2, "price": 150_000}],
        "content": "Áo thun (M, Đỏ) x2",
        "weight": 1_200,
        "length": 20,
        "width": 15,
        "height": 10,
        "insurance_value": 300_000,
    }
    order = fake.orders[result.tracking_code]
    assert result == Created(tracking_code=order.order_code, fee=order.total_fee)


async def test_try_on_asks_for_chothuhang_and_insurance_is_capped(fake: FakeGhn) -> None:
    await connect(fake).create(parcel(try_on=True, value=9_000_000))
    body = fake.calls[-1][2]
    assert body["required_note"] == "CHOTHUHANG"
    assert body["insurance_value"] == 5_000_000  # capped at GHN's ceiling rather than refused


async def test_a_lost_create_is_found_by_lookup_and_never_created_twice(fake: FakeGhn) -> None:
    courier = connect(fake)
    fake.lose_next_create_response()
    with pytest.raises(TransientCourierError) as lost:
        await courier.create(PARCEL)
    assert lost.value.status_code == 504
    remote = await courier.lookup(PARCEL.client_code)
    assert remote is not None
    assert (remote.client_code, remote.status, remote.raw_status) == ("ORD-1-v1", Status.CREATED, "ready_to_pick")
    assert (remote.cod_amount, remote.phones, remote.recipient_name) == (330_000, ("+84912345678",), "Nguyễn Thị Lan")
    with pytest.raises(PermanentCourierError, match="đã tồn tại"):
        await courier.create(PARCEL)
    assert list(fake.orders) == [remote.tracking_code]
    assert await courier.lookup("never-sent") is None
    assert fake.calls[-1][::2] == ("/v2/shipping-order/detail-by-client-code", {"client_order_code": "never-sent"})


@pytest.mark.parametrize("status_code", [500, 502, 503, 429])
async def test_gateway_failures_are_transient(fake: FakeGhn, status_code: int) -> None:
    courier = connect(fake)
    fake.fail_next(1, status_code)
    with pytest.raises(TransientCourierError) as failed:
        await courier.create(PARCEL)
    assert failed.value.status_code == status_code
    assert (await courier.create(PARCEL)).tracking_code in fake.orders  # the failed call created nothing


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
async def test_timeouts_and_transport_errors_are_transient(error: type[httpx.TransportError]) -> None:
    timeouts: list[Any] = []

    def fail(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        raise error("no answer", request=request)

    courier = GhnCourier(config(timeout_s=3.5), httpx.AsyncClient(transport=httpx.MockTransport(fail)))
    with pytest.raises(TransientCourierError):
        await courier.detail("GF000001")
    assert timeouts == [{"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}]


async def test_a_refusal_is_permanent_with_ghns_message(fake: FakeGhn) -> None:
    with pytest.raises(PermanentCourierError) as refused:
        await connect(fake).create(parcel(phones=("+841234",)))
    error = refused.value
    assert (error.message, error.code, error.status_code) == (
        "Số điện thoại người nhận không hợp lệ: 01234",
        "USER_ERR_COMMON",
        400,
    )


async def test_cod_limits_are_configurable_in_the_fake_and_checked_before_calling() -> None:
    fake = FakeGhn(token=TOKEN, shop_id=SHOP_ID, cod_limit=300_000)
    with pytest.raises(PermanentCourierError, match=r"cod_amount phải từ 0 đến 300\.000"):
        await connect(fake).create(PARCEL)
    with pytest.raises(PermanentCourierError) as refused:
        await connect(fake, cod_limit=300_000).create(PARCEL)
    assert (refused.value.code, len(fake.calls), fake.orders) == ("GHN_COD_LIMIT", 1, {})


@pytest.mark.parametrize(
    ("wrong", "status", "code"),
    [({"token": "wrong"}, 401, "USER_ERR_AUTHORIZED"), ({"shop_id": 42}, 400, "SHOP_NOT_FOUND")],
)
async def test_bad_credentials_are_permanent(fake: FakeGhn, wrong: dict[str, Any], status: int, code: str) -> None:
    with pytest.raises(PermanentCourierError) as refused:
        await connect(fake, **wrong).create(PARCEL)
    assert (refused.value.status_code, refused.value.code) == (status, code)


@pytest.mark.parametrize(("header", "status_code"), [("ShopId", 200), ("ShopID", 200), ("shop_id", 200), (None, 400)])
async def test_the_fake_takes_every_shop_header_spelling(fake: FakeGhn, header: str | None, status_code: int) -> None:
    headers = {"Token": TOKEN} | ({header: str(SHOP_ID)} if header else {})
    body = {"to_ward_name": "Phường Hai Bà Trưng", "to_province_name": "Hà Nội", "weight": 500}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as client:  # type: ignore[arg-type]
        response = await client.post(f"{BASE}/v2/shipping-order/fee", json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (status_code, status_code)


async def test_update_cod_is_accepted_in_transit_and_refused_while_delivering(fake: FakeGhn) -> None:
    courier, code = await created(fake)
    fake.set_status(code, "storing")
    await courier.update_cod(code, 250_000)
    assert fake.calls[-1][::2] == ("/v2/shipping-order/updateCOD", {"order_code": code, "cod_amount": 250_000})
    fake.set_status(code, "delivering")
    with pytest.raises(PermanentCourierError, match="Trạng thái đơn hàng không hợp lệ"):
        await courier.update_cod(code, 200_000)
    assert fake.orders[code].fields["cod_amount"] == 250_000


async def test_items_change_before_pickup_only(fake: FakeGhn) -> None:
    courier, code = await created(fake)
    more = parcel(items=(*PARCEL.items, Item(sku="QUAN-2", name="Quần", quantity=1, unit_price=200_000)))
    await courier.update_items(code, more)
    assert [item["code"] for item in fake.orders[code].fields["items"]] == ["AO-1", "QUAN-2"]
    fake.set_status(code, "picked")
    with pytest.raises(PermanentCourierError, match="sau khi đã lấy hàng"):
        await courier.update_items(code, PARCEL)


async def test_cancel_before_pickup_twice_and_refused_after_pickup(fake: FakeGhn) -> None:
    courier, code = await created(fake)
    await courier.cancel(code)
    assert (fake.calls[-1][2], fake.orders[code].status) == ({"order_codes": [code]}, "cancel")
    await courier.cancel(code)  # a retried cancel whose first answer was lost
    later = (await courier.create(parcel(client_code="ORD-1-v2"))).tracking_code
    fake.set_status(later, "picked")
    with pytest.raises(PermanentCourierError, match="Trạng thái đơn hàng không hợp lệ"):
        await courier.cancel(later)
    assert fake.orders[later].status == "picked"


async def test_district_mode_sends_ghns_ids() -> None:
    fake = FakeGhn(token=TOKEN, shop_id=SHOP_ID, require_district=True)
    mapped = msgspec.structs.replace(HANOI, courier_ids={"district_id": 1489, "ward_code": "1A0807"})
    await connect(fake, address_mode="district").create(parcel(address=mapped))
    body = fake.calls[-1][2]
    assert {key: body[key] for key in body if "district" in key or "ward" in key} == {
        "from_district_id": 1442,
        "from_ward_code": "20109",
        "to_district_id": 1489,
        "to_ward_code": "1A0807",
    }


async def test_district_mode_without_a_mapping_names_the_ward_and_two_level_needs_a_new_gateway() -> None:
    fake = FakeGhn(token=TOKEN, shop_id=SHOP_ID, require_district=True)
    with pytest.raises(PermanentCourierError, match="Phường Hai Bà Trưng") as refused:
        await connect(fake, address_mode="district").create(PARCEL)
    assert (refused.value.code, fake.calls) == ("GHN_WARD_UNMAPPED", [])
    with pytest.raises(PermanentCourierError, match="to_district_id"):  # a legacy-only gateway
        await connect(fake).create(PARCEL)
    with pytest.raises(ValueError, match="address_mode"):
        config(address_mode="three_level")


async def test_quote_prices_by_weight_and_zone(fake: FakeGhn) -> None:
    courier = connect(fake)
    same = await courier.quote(79, parcel(address=HCM, weight_g=500))
    other = await courier.quote(79, PARCEL)
    assert [call[0] for call in fake.calls[-2:]] == ["/v2/shipping-order/fee", "/v2/shipping-order/leadtime"]
    assert (same.courier, same.service) == ("ghn", "light")
    assert same.fee < other.fee < (await courier.quote(79, parcel(weight_g=5_000))).fee


async def test_quote_reads_the_lead_time_in_days(fake: FakeGhn) -> None:
    courier = connect(fake)
    same = await courier.quote(79, parcel(address=HCM))
    other = await courier.quote(79, PARCEL)
    leadtime = fake.calls[-1]
    assert leadtime[0] == "/v2/shipping-order/leadtime"
    assert leadtime[1]["shopid"] == "885001" and leadtime[2]["service_type_id"] == 2
    assert "cod_value" not in leadtime[2] and "to_ward_name" in leadtime[2]
    assert same.expected_delivery is not None and other.expected_delivery is not None
    assert (same.expected_delivery.min_days, other.expected_delivery.max_days) == (1, 3)


async def test_a_delivered_webhook_reports_the_collected_cod(fake: FakeGhn) -> None:
    courier, code = await created(fake)
    fake.set_status(code, "delivered")
    create, delivered = (courier.parse_webhook(request)[0] for request in await webhooks(fake))
    assert (create.status, create.raw_status, create.cod_collected) == (Status.CREATED, "ready_to_pick", None)
    assert (delivered.courier, delivered.tracking_code, delivered.client_code) == ("ghn", code, "ORD-1-v1")
    assert (delivered.status, delivered.cod_collected, delivered.partial) == (Status.DELIVERED, 330_000, False)
    assert delivered.occurred_at.tzinfo is not None and delivered.event_key != create.event_key


# The last case: an empty configured secret must not accept an empty `?token=`.
@pytest.mark.parametrize(
    ("query", "secret"),
    [("", SECRET), ("?token=wrong", SECRET), ("?token=", SECRET), (f"?hash={SECRET}", SECRET), ("?token=", "")],
)
async def test_a_webhook_without_the_registered_token_is_rejected(fake: FakeGhn, query: str, secret: str) -> None:
    await created(fake)
    [request] = await webhooks(fake, query)
    with pytest.raises(WebhookRejected):
        connect(fake, webhook_secret=secret).parse_webhook(request)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"Status": "delivered", "Time": "2025-08-01T10:00:00Z"}',
        b'{"OrderCode": " ", "Status": "delivered", "Time": "2025-08-01T10:00:00Z"}',
        b'{"OrderCode": "GF000001", "Status": "teleported", "Time": "2025-08-01T10:00:00Z"}',
        b'{"OrderCode": "GF000001", "Status": "delivered", "Time": "yesterday"}',
        b'{"OrderCode": "GF000001", "Status": "delivered", "Time": "2025-08-01T10:00:00Z", "ShopID": 42}',
    ],
)
async def test_malformed_webhooks_are_rejected(body: bytes) -> None:
    request = Request(headers={}, query={"token": SECRET}, body=body)
    with pytest.raises(WebhookRejected):
        connect(FakeGhn()).parse_webhook(request)


async def test_a_replayed_webhook_has_the_same_event_key(fake: FakeGhn) -> None:
    courier, code = await created(fake)
    fake.set_status(code, "picked")
    [_, picked] = await webhooks(fake)
    assert courier.parse_webhook(picked) == courier.parse_webhook(picked)
    assert courier.parse_webhook(picked)[0].event_key.startswith(f"{code}|switch_status|picked|")


async def test_a_partial_return_is_a_partial_delivery(fake: FakeGhn) -> None:
    courier, code = await created(fake)
    fake.set_status(code, "delivered", partial=True, cod=150_000)
    [event] = courier.parse_webhook((await webhooks(fake))[-1])
    assert (event.status, event.partial, event.cod_collected) == (Status.PARTIALLY_DELIVERED, True, 150_000)
    assert event.kept is None  # GHN does not say which items came back
    back = fake.orders[code].partial_return_code
    assert event.message is not None and back in event.message
    assert fake.orders[back].status == "return"


@pytest.mark.parametrize(("raw", "status"), sorted(EXPECTED.items()))
async def test_every_ghn_status_maps_to_a_status(fake: FakeGhn, raw: str, status: Status) -> None:
    assert set(STATUSES) == set(EXPECTED)  # the table is the documented list, no more and no less
    courier, code = await created(fake)
    fake.set_status(code, raw)
    [event] = courier.parse_webhook((await webhooks(fake))[-1])
    assert (event.status, event.raw_status) == (status, raw)
    if raw in ("exception", "lost", "damage"):
        assert event.message is not None and event.message.startswith(f"GHN {raw} ({STATUSES[raw][1]})")


async def test_webhooks_are_retried_until_200(fake: FakeGhn) -> None:
    await created(fake)
    answers = iter([500, 401, 200])
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(next(answers)))) as client:
        [delivery] = await fake.deliver_webhooks(client, "https://shop.test/ghn", interval_s=0)
    assert (delivery.attempts, delivery.delivered) == (3, True)
    await connect(fake).create(parcel(client_code="ORD-2"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503))) as client:
        [delivery] = await fake.deliver_webhooks(client, "https://shop.test/ghn", attempts=4, interval_s=0)
    assert (delivery.attempts, delivery.delivered, fake.pending_webhooks) == (4, False, [])


async def test_the_adapter_is_a_courier_and_closes_only_its_own_client() -> None:
    given = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    courier = GhnCourier(config(), given)
    assert isinstance(courier, Courier)
    assert (courier.name, courier.capabilities) == ("ghn", CAPABILITIES["ghn"])
    await courier.aclose()
    assert not given.is_closed
    await given.aclose()
    own = GhnCourier(config())
    await own.aclose()
    assert own._client.is_closed


@pytest.mark.parametrize("amount", [b"10000000000000000000000000", b"-1", b"1e400", b'"1e400"'])
async def test_a_cod_no_parcel_has_names_codamount_once_verified(amount: bytes) -> None:
    body = b'{"OrderCode": "GF000001", "Status": "delivered", "Time": "2025-08-01T10:00:00Z", "CODAmount": ' + amount
    request = Request(headers={}, query={"token": SECRET}, body=body + b"}")
    with pytest.raises(WebhookFieldInvalid) as raised:
        connect(FakeGhn()).parse_webhook(request)
    assert raised.value.field == "CODAmount"
    with pytest.raises(WebhookRejected):
        connect(FakeGhn()).parse_webhook(Request(headers={}, query={"token": "guess"}, body=body + b"}"))
