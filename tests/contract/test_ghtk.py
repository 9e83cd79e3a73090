"""The GHTK adapter against the GHTK fake: the exact requests, error sorting, cancel rules and webhooks."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

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
from couriers.ghtk import STATUSES, GhtkConfig, GhtkCourier
from fakes.ghtk.server import FakeGhtk

pytestmark = pytest.mark.anyio

BASE = "https://services-staging.ghtklab.com"
SECRET = "s3cr3t-hash"
SHOP = Shop(
    name="Lan Boutique",
    phone="+84901112233",
    address=Address("12 Lê Lợi", 26734, 79, "Phường Sài Gòn", "Thành phố Hồ Chí Minh", {"district_name": "Quận 1"}),
)
DA_NANG = Address("45 Bạch Đằng", 20194, 48, "Phường Hải Châu", "Thành phố Đà Nẵng")
DRESS_M = Item("VAY-HOA-M", "Váy hoa", 1, 350_000, size="M", color="Đỏ")
DRESS_L = Item("VAY-HOA-L", "Váy hoa", 1, 350_000, size="L", color="Đỏ")
SHIRT = Item("AO-01", "Áo sơ mi", 2, 200_000)
PHONES = ("+84912345678", "+84987654321")
DRESSES = (DRESS_M, DRESS_L)
PARCEL = Parcel("ORD-1001-v1", "Nguyễn Thị Hoa", PHONES, DA_NANG, DRESSES, 730_000, 700_000, "customer", weight_g=800)


def parcel(**changes: Any) -> Parcel:
    return msgspec.structs.replace(PARCEL, **changes)


TEN_SECONDS = {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}


@pytest.fixture
def fake() -> FakeGhtk:
    return FakeGhtk(token="tok-123", partner_code="S1000")


def config(**changes: Any) -> GhtkConfig:
    # The fake answers at the staging host: set on purpose, since the adapter defaults to the live one.
    values: dict[str, Any] = {
        "token": "tok-123",
        "partner_code": "S1000",
        "shop": SHOP,
        "webhook_secret": SECRET,
        "base_url": BASE,
    }
    return GhtkConfig(**(values | changes))


@pytest.fixture
async def courier(fake: FakeGhtk) -> AsyncIterator[GhtkCourier]:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE) as client:
        yield GhtkCourier(config(), client)


def body_of(call: Any) -> Any:
    return json.loads(call.body)


async def test_implements_the_protocol(courier: GhtkCourier) -> None:
    assert isinstance(courier, Courier)
    assert courier.name == "ghtk" and courier.capabilities.recreate_before_pickup


async def test_create_sends_the_exact_request(courier: GhtkCourier, fake: FakeGhtk) -> None:
    created = await courier.create(parcel(try_on=True, note="Gọi trước khi giao"))

    [call] = fake.calls
    assert (call.method, call.path) == ("POST", "/services/shipment/order/?ver=1.5")
    assert call.headers["token"] == "tok-123" and call.headers["x-client-source"] == "S1000"
    assert call.headers["content-type"] == "application/json"
    assert body_of(call) == {
        "products": [
            {"name": "Váy hoa (M, Đỏ)", "weight": 0.4, "quantity": 1, "price": 350_000, "product_code": "VAY-HOA-M"},
            {"name": "Váy hoa (L, Đỏ)", "weight": 0.4, "quantity": 1, "price": 350_000, "product_code": "VAY-HOA-L"},
        ],
        "order": {
            "id": "ORD-1001-v1",
            "pick_name": "Lan Boutique",
            "pick_address": "12 Lê Lợi",
            "pick_province": "Thành phố Hồ Chí Minh",
            "pick_ward": "Phường Sài Gòn",
            "pick_tel": "0901112233",
            "name": "Nguyễn Thị Hoa",
            "address": "45 Bạch Đằng",
            "province": "Thành phố Đà Nẵng",
            "ward": "Phường Hải Châu",
            "hamlet": "Khác",
            "tel": "0912345678",
            "note": "Gọi trước khi giao. SĐT khác: 0987654321",
            "pick_money": 730_000,
            "value": 700_000,
            "is_freeship": 1,
            "transport": "road",
            "total_weight": 0.8,
            "tags": [17],
        },
    }
    assert fake.timeouts == [TEN_SECONDS]
    stored = fake.order(created.tracking_code)
    # Inter-province, 800 g: 30,000 + one 500 g step, plus half again for tag 17 (§2.2).
    assert (created.status, created.fee, stored.status_id) == (Status.CREATED, 48_750, 2)


async def test_create_without_try_on_sends_no_tags_and_shares_weight_per_unit(
    courier: GhtkCourier, fake: FakeGhtk
) -> None:
    await courier.create(parcel(items=(SHIRT,), phones=("+84912345678",), weight_g=600))

    order, products = body_of(fake.calls[0])["order"], body_of(fake.calls[0])["products"]
    assert "tags" not in order and "note" not in order and "district" not in order
    assert products == [{"name": "Áo sơ mi", "weight": 0.3, "quantity": 2, "price": 200_000, "product_code": "AO-01"}]


async def test_a_lost_create_is_found_by_lookup_and_not_created_twice(courier: GhtkCourier, fake: FakeGhtk) -> None:
    fake.lose_next_create_response()
    with pytest.raises(TransientCourierError) as lost:
        await courier.create(parcel())
    assert lost.value.status_code == 504

    found = await courier.lookup("ORD-1001-v1")
    assert found is not None
    assert (found.client_code, found.status, found.cod_amount) == ("ORD-1001-v1", Status.CREATED, 730_000)
    assert found.phones == ("+84912345678",) and found.recipient_name == "Nguyễn Thị Hoa"
    assert fake.calls[-1].path == "/services/shipment/v2/partner_id:ORD-1001-v1"

    with pytest.raises(PermanentCourierError) as again:
        await courier.create(parcel())
    assert again.value.code == "ORDER_ID_EXIST" and "đã tồn tại" in again.value.message
    assert len(fake.orders) == 1 and await courier.lookup("ORD-404") is None


async def test_detail_reads_the_status_by_label(courier: GhtkCourier, fake: FakeGhtk) -> None:
    label = (await courier.create(parcel())).tracking_code
    fake.set_status(label, 4)

    remote = await courier.detail(label)

    assert (remote.tracking_code, remote.status, remote.raw_status) == (label, Status.OUT_FOR_DELIVERY, "4")
    assert fake.calls[-1].path == f"/services/shipment/v2/{label}"


@pytest.mark.parametrize("status_code", [500, 502, 429])
async def test_server_errors_are_transient(courier: GhtkCourier, fake: FakeGhtk, status_code: int) -> None:
    fake.fail_next(1, status_code=status_code)
    with pytest.raises(TransientCourierError) as caught:
        await courier.create(parcel())
    assert caught.value.status_code == status_code and not fake.orders
    assert (await courier.create(parcel())).tracking_code  # the fault is spent; the retry goes through


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("down")])
async def test_timeouts_and_network_errors_are_transient(
    courier: GhtkCourier, fake: FakeGhtk, error: httpx.TransportError
) -> None:
    fake.break_next(error)
    with pytest.raises(TransientCourierError):
        await courier.detail("S1000.A1.1")


@pytest.mark.parametrize(
    ("change", "status_code", "code", "words"),
    [
        ({"items": ()}, 422, "30103", "khối lượng"),
        ({"client_code": "X" * 250}, 422, "30102", "250"),
    ],
)
async def test_ghtk_refusals_are_permanent_with_its_message_and_code(
    courier: GhtkCourier, change: dict[str, Any], status_code: int, code: str, words: str
) -> None:
    with pytest.raises(PermanentCourierError) as caught:
        await courier.create(parcel(**change))
    assert (caught.value.status_code, caught.value.code) == (status_code, code)
    assert words in caught.value.message


async def test_bad_transport_and_bad_token_are_permanent(fake: FakeGhtk) -> None:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        with pytest.raises(PermanentCourierError) as transport:
            await GhtkCourier(config(transport="boat"), client).create(parcel())
        with pytest.raises(PermanentCourierError) as token:
            await GhtkCourier(config(token="expired"), client).create(parcel())
    assert (transport.value.status_code, transport.value.code) == (422, "30104")
    assert (token.value.status_code, token.value.code) == (401, "20101")
    assert token.value.message == "Cần cung cấp token hợp lệ"


async def test_updates_are_always_refused(courier: GhtkCourier, fake: FakeGhtk) -> None:
    for update in (
        courier.update_recipient("S1000.A1.1", parcel()),
        courier.update_address("S1000.A1.1", parcel()),
        courier.update_cod("S1000.A1.1", 500_000),
        courier.update_items("S1000.A1.1", parcel()),
    ):
        with pytest.raises(PermanentCourierError, match="GHTK has no amend API"):
            await update
    assert fake.calls == []


async def test_cancel_before_pickup_is_idempotent(courier: GhtkCourier, fake: FakeGhtk) -> None:
    label = (await courier.create(parcel())).tracking_code
    await courier.cancel(label)
    await courier.cancel(label)  # a retried cancel whose first answer was lost: GHTK says "already cancelled"
    assert fake.order(label).status_id == -1
    assert fake.calls[-1].path == f"/services/shipment/cancel/{label}"
    assert fake.timeouts == [TEN_SECONDS] * 3  # every call, not just the create


async def test_cancel_is_refused_after_pickup(courier: GhtkCourier, fake: FakeGhtk) -> None:
    label = (await courier.create(parcel())).tracking_code
    fake.set_status(label, 3)
    with pytest.raises(PermanentCourierError) as caught:
        await courier.cancel(label)
    assert caught.value.message == "Đơn đã lấy hàng, không thể hủy đơn."
    assert fake.order(label).status_id == 3


async def test_district_mode_without_a_mapping_is_refused_before_any_call(fake: FakeGhtk) -> None:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        ghtk = GhtkCourier(config(address_mode="district"), client)
        with pytest.raises(PermanentCourierError, match="Phường Hải Châu"):
            await ghtk.create(parcel())
    assert fake.calls == []


async def test_district_mode_sends_district_names_that_a_legacy_ghtk_requires() -> None:
    legacy = FakeGhtk(token="tok-123", partner_code="S1000", require_district=True)
    mapped = parcel(address=msgspec.structs.replace(DA_NANG, courier_ids={"district_name": "Quận Hải Châu"}))
    async with httpx.AsyncClient(transport=legacy.transport()) as client:
        with pytest.raises(PermanentCourierError, match="district"):
            await GhtkCourier(config(), client).create(mapped)  # two-level mode leaves the district out
        await GhtkCourier(config(address_mode="district"), client).create(mapped)
    order = body_of(legacy.calls[-1])["order"]
    assert (order["pick_district"], order["district"]) == ("Quận 1", "Quận Hải Châu")


async def test_quote_asks_by_names_in_grams(courier: GhtkCourier, fake: FakeGhtk) -> None:
    far = await courier.quote(79, parcel(weight_g=1_200, value=2_000_000))
    near = await courier.quote(79, parcel(address=SHOP.address, weight_g=1_200, value=2_000_000))

    assert fake.calls[0].method == "GET"
    assert fake.calls[0].path == (
        "/services/shipment/fee?pick_province=Th%C3%A0nh+ph%E1%BB%91+H%E1%BB%93+Ch%C3%AD+Minh"
        "&pick_ward=Ph%C6%B0%E1%BB%9Dng+S%C3%A0i+G%C3%B2n&pick_address=12+L%C3%AA+L%E1%BB%A3i"
        "&province=Th%C3%A0nh+ph%E1%BB%91+%C4%90%C3%A0+N%E1%BA%B5ng&ward=Ph%C6%B0%E1%BB%9Dng+H%E1%BA%A3i+Ch%C3%A2u"
        "&address=45+B%E1%BA%A1ch+%C4%90%E1%BA%B1ng&weight=1200&value=2000000&transport=road&deliver_option=none"
    )
    # 1,200 g is two 500 g steps over the first; 0.5 % insurance over 1,000,000 VND.
    assert (far.courier, far.service, far.fee) == ("ghtk", "road", 30_000 + 5_000 + 10_000)
    assert near.fee == 22_000 + 5_000 + 10_000
    assert far.expected_delivery is None  # the fee answer (section 2.3) promises no lead time
    with pytest.raises(PermanentCourierError, match="pickup province"):
        await courier.quote(1, parcel())  # GHTK quotes by names; only the shop's pickup address is known


async def test_quote_for_try_on_includes_the_tag_surcharge(courier: GhtkCourier, fake: FakeGhtk) -> None:
    plain, try_on = await courier.quote(79, parcel()), await courier.quote(79, parcel(try_on=True))
    assert fake.calls[1].path.endswith("&tags%5B%5D=17")
    assert try_on.fee - plain.fee == 32_500 // 2


async def test_aclose_closes_only_its_own_client(fake: FakeGhtk) -> None:
    async with httpx.AsyncClient(transport=fake.transport()) as shared:
        await GhtkCourier(config(), shared).aclose()
        assert not shared.is_closed
    own = GhtkCourier(config())
    await own.aclose()
    assert own._client.is_closed


# -- webhooks ------------------------------------------------------------------------------------------------------


def hook(fields: dict[str, str] | bytes, query: dict[str, str] | None = None, content_type: str = "") -> Request:
    body = fields if isinstance(fields, bytes) else urlencode(fields).encode()
    headers = {"content-type": content_type or "application/x-www-form-urlencoded"}
    return Request(headers=headers, query={"hash": SECRET} if query is None else query, body=body)


# A body as GHTK posts it (§2.5).
EVENT = dict(
    parse_qsl(
        "label_id=S1000.A1.17373471&partner_id=ORD-1001-v1&status_id=5&action_time=2025-08-02T15%3A04%3A05%2B07%3A00"
        "&reason_code=&reason=&weight=0.8&fee=40000&pick_money=730000&return_part_package=0",
        keep_blank_values=True,
    )
)


async def test_a_valid_webhook_becomes_one_event(courier: GhtkCourier) -> None:
    [event] = courier.parse_webhook(hook(EVENT))

    assert (event.courier, event.tracking_code, event.client_code) == ("ghtk", "S1000.A1.17373471", "ORD-1001-v1")
    assert (event.status, event.raw_status) == (Status.DELIVERED, "5")
    assert (event.partial, event.cod_collected) == (False, 730_000)
    tz = datetime.timezone(datetime.timedelta(hours=7))
    assert event.occurred_at == datetime.datetime(2025, 8, 2, 15, 4, 5, tzinfo=tz)
    # The docs show the same data as JSON too.
    assert courier.parse_webhook(hook(json.dumps(EVENT).encode(), content_type="application/json")) == [event]


@pytest.mark.parametrize("query", [{}, {"hash": ""}, {"hash": "guess"}, {"hash": SECRET + "x"}, {"secret": SECRET}])
async def test_a_webhook_without_the_registered_hash_is_rejected(courier: GhtkCourier, query: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected):
        courier.parse_webhook(hook(EVENT, query))


@pytest.mark.parametrize(
    "body",
    [
        urlencode({k: v for k, v in EVENT.items() if k != "label_id"}).encode(),
        urlencode({k: v for k, v in EVENT.items() if k != "status_id"}).encode(),
        urlencode(EVENT | {"status_id": "five"}).encode(),
        urlencode(EVENT | {"status_id": "99"}).encode(),  # not in §2.5's table
        urlencode(EVENT | {"action_time": "yesterday"}).encode(),
        urlencode(EVENT | {"pick_money": "lots"}).encode(),
        b"label_id",
        b"",
        b"\xff\xfe",
    ],
)
async def test_a_malformed_webhook_is_rejected(courier: GhtkCourier, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        courier.parse_webhook(hook(body))


async def test_a_webhook_with_an_empty_configured_secret_is_rejected(fake: FakeGhtk) -> None:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        with pytest.raises(WebhookRejected):
            GhtkCourier(config(webhook_secret=""), client).parse_webhook(hook(EVENT, {"hash": ""}))


async def test_resent_webhooks_share_an_event_key_and_partial_delivery_is_reported(
    courier: GhtkCourier, fake: FakeGhtk
) -> None:
    label = (await courier.create(parcel(try_on=True))).tracking_code
    fake.set_status(label, 3)
    fake.set_status(label, 5, return_part_package=True, pick_money=380_000)
    answers = iter([200, 500, 200])  # the second webhook is refused once, so GHTK sends it again
    received: list[Any] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        incoming = Request(headers=dict(request.headers), query=dict(request.url.params), body=request.content)
        received.extend(courier.parse_webhook(incoming))
        return httpx.Response(next(answers))

    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
        undelivered = await fake.deliver_webhooks(client, f"https://shop.example/hooks/ghtk?hash={SECRET}")

    assert undelivered == [] and [status for _, status in fake.webhook_attempts] == [200, 500, 200]
    picked, partial, resent = received
    assert picked.status == Status.PICKED and partial == resent
    assert (partial.status, partial.partial, partial.cod_collected) == (Status.PARTIALLY_DELIVERED, True, 380_000)
    assert len({picked.event_key, partial.event_key}) == 2


async def test_webhooks_never_taken_are_given_up_after_the_attempts(fake: FakeGhtk, courier: GhtkCourier) -> None:
    label = (await courier.create(parcel())).tracking_code
    fake.set_status(label, 12)
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(204))) as client:
        undelivered = await fake.deliver_webhooks(client, "https://shop.example/hooks", attempts=2)
    assert [p["status_id"] for p in undelivered] == ["12"] and len(fake.webhook_attempts) == 2


# §2.5, row by row; shipper reports ("không phải trạng thái đơn hàng") change nothing, so they yield no event.
# 7 and 8 (pickup impossible or postponed) count as picked up: GHTK no longer cancels them, so no recreate.
DOCUMENTED = {-1: Status.CANCELLED, 4: Status.OUT_FOR_DELIVERY, 20: Status.RETURNING}
DOCUMENTED |= dict.fromkeys((1, 2, 12), Status.CREATED) | dict.fromkeys((3, 8, 7), Status.PICKED)
DOCUMENTED |= dict.fromkeys((10, 9), Status.DELIVERY_FAILED)
DOCUMENTED |= dict.fromkeys((5, 6), Status.DELIVERED) | dict.fromkeys((21, 11, 13), Status.RETURNED)
SHIPPER_REPORTS = (123, 127, 128, 45, 49, 410)


def test_the_table_covers_exactly_the_documented_ids() -> None:
    assert set(STATUSES) == set(DOCUMENTED) | set(SHIPPER_REPORTS)


@pytest.mark.parametrize(("status_id", "status"), DOCUMENTED.items())
async def test_every_documented_status_maps(courier: GhtkCourier, status_id: int, status: Status) -> None:
    [event] = courier.parse_webhook(hook(EVENT | {"status_id": str(status_id)}))
    assert (event.status, event.raw_status) == (status, str(status_id))


@pytest.mark.parametrize("status_id", SHIPPER_REPORTS)
async def test_shipper_reports_are_accepted_without_an_event(courier: GhtkCourier, status_id: int) -> None:
    assert courier.parse_webhook(hook(EVENT | {"status_id": str(status_id), "return_part_package": "1"})) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("pick_money", "1e400"), ("pick_money", "10000000000000000000000000"), ("pick_money", "-1"), ("fee", "-inf")],
)
async def test_a_number_no_parcel_has_names_its_field_once_verified(
    courier: GhtkCourier, field: str, value: str
) -> None:
    with pytest.raises(WebhookFieldInvalid) as raised:
        courier.parse_webhook(hook(EVENT | {field: value}))
    assert raised.value.field == field
    with pytest.raises(WebhookRejected):  # not verified: nothing is said about the fields
        courier.parse_webhook(hook(EVENT | {field: value}, {"hash": "guess"}))
    assert courier.parse_webhook(hook(EVENT | {field: "1000000000000"}))  # the bound itself is a number it takes
