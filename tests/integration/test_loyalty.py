"""Loyalty through HTTP only: the Min Boutique story, a duplicated courier webhook, one profile per phone."""

from __future__ import annotations

import datetime
import json
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from standardwebhooks import Webhook

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping, random_mobile

pytestmark = pytest.mark.anyio

BAG = {"sku": "BAG-09", "name": "Túi da", "size": "F", "color": "black", "unit_price": 5_200_000, "quantity": 1}


@pytest.fixture
def app(settings: Settings) -> Litestar:
    # A return undoes a promotion at once here; the default (never) is the tier function's unit tests'.
    return create_app(msgspec.structs.replace(settings, tier_downgrade="immediate"))


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


async def get(api: Api, path: str) -> Any:
    response = await api.request("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


async def deliver(api: Api, shipping: Shipping, order: dict[str, Any]) -> dict[str, Any]:
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    delivered = await shipping.order(order["id"])
    assert delivered["status"] == "delivered"
    return delivered


async def test_min_boutique_story(api: Api, shipping: Shipping) -> None:
    phone = random_mobile()
    customer = {"full_name": "Trần Thị Min", "phones": [phone]}
    first = await api.create_order(customer=customer)
    me = first["customer_id"]
    assert first["discount"] == {"percent": 0, "amount": 0, "reason": None}
    assert (await get(api, f"/api/customers/{me}/profile"))["status"] == "never_purchased"

    # Her first completed order makes her standard: 450,000 VND kept, 45 points.
    await deliver(api, shipping, first)
    profile = await get(api, f"/api/customers/{me}/profile")
    assert profile["loyalty"] == {
        "tier": "standard",
        "points": 45,
        "lifetime_spend": 450_000,
        "discount_percent": 10,
        "next_tier": "gold",
        "amount_to_next_tier": 4_550_000,
    }
    assert profile["status"] == "new" and profile["stats"]["delivered_orders"] == 1
    assert profile["favorites"] == {"sizes": ["M"], "colors": ["red"], "skus": ["DRESS-01"]}

    # Her next order carries 10% off by itself; so does one she opens alongside it.
    second = await api.create_order(customer={**customer, "phones": [phone]}, lines=[BAG])
    assert second["customer_id"] == me
    assert second["discount"] == {"percent": 10, "amount": 520_000, "reason": "standard tier 10%"}
    waiting = await api.create_order(customer_id=me)
    assert waiting["discount"]["percent"] == 10

    # 450,000 + 4,680,000 crosses 5,000,000: gold.
    await deliver(api, shipping, second)
    profile = await get(api, f"/api/customers/{me}/profile")
    assert profile["loyalty"]["tier"] == "gold" and profile["loyalty"]["lifetime_spend"] == 5_130_000
    assert profile["loyalty"]["points"] == 45 + 468 and profile["loyalty"]["next_tier"] is None
    assert profile["status"] == "vip" and profile["stats"]["average_order_value"] == 2_565_000

    # The next order gets 25%; the open one follows her tier when amended, and its history says so.
    third = await api.create_order(customer_id=me)
    assert third["discount"] == {"percent": 25, "amount": 112_500, "reason": "gold tier 25%"}
    amended = await api.amend(waiting, {"op": "set_recipient", "name": "Chị Min"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["discount"]["percent"] == 25
    events = await get(api, f"/api/orders/{waiting['id']}/events")
    assert events[-1]["changes"]["discount.percent"] == {"before": 10, "after": 25}

    # She brings the bag back: its points, spend and order leave the ledger, and she is standard again.
    current = await shipping.order(second["id"])
    returned = await api.request(
        "POST", f"/api/orders/{second['id']}/return", headers={"If-Match": f'"{current["version"]}"'}
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    again = await api.request(
        "POST", f"/api/orders/{second['id']}/return", headers={"If-Match": f'"{returned.json()["version"]}"'}
    )
    assert again.status_code == 409, again.text
    profile = await get(api, f"/api/customers/{me}/profile")
    assert profile["loyalty"]["tier"] == "standard"
    assert (profile["loyalty"]["points"], profile["loyalty"]["lifetime_spend"]) == (45, 450_000)
    assert profile["stats"]["delivered_orders"] == 1
    ledger = (await get(api, f"/api/customers/{me}/points"))["items"]
    assert [(e["kind"], e["points"], e["balance_after"]) for e in ledger] == [
        ("earn", 45, 45),
        ("earn", 468, 513),
        ("reverse", -468, 45),
    ]
    history = await get(api, f"/api/customers/{me}/orders")
    assert [o["id"] for o in history["items"]] == [third["id"], waiting["id"], second["id"], first["id"]]


def signed(api: Api, body: dict[str, Any], message_id: str) -> dict[str, Any]:
    secret = api.sandbox.config.webhook_secret
    content = json.dumps(body)
    at = datetime.datetime.now(datetime.UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, content),
    }
    return {"content": content.encode(), "headers": headers}


async def test_a_duplicated_courier_webhook_never_counts_twice(api: Api, shipping: Shipping) -> None:
    order = await deliver(api, shipping, await api.create_order())
    tracking = order["shipment"]["tracking_code"]
    parcel = await shipping.parcel(tracking)
    sent = parcel["webhooks"][-1]
    at = datetime.datetime.now(datetime.UTC).isoformat()
    body = {"id": "x", "type": "shipment.status", "tracking_code": tracking, "client_code": order["code"]}
    for message_id in (sent["id"], "msg_retry_1", "msg_retry_2"):  # the same message, then retries with new ids
        event = {**body, "id": message_id, "status": "delivered", "occurred_at": at, "seq": 99}
        response = await api.client.post("/webhooks/couriers/sandbox", **signed(api, event, message_id))
        assert response.status_code == 200, response.text
    ledger = (await get(api, f"/api/customers/{order['customer_id']}/points"))["items"]
    assert [(e["kind"], e["points"]) for e in ledger] == [("earn", 45)]


async def test_one_phone_in_two_forms_is_one_profile(api: Api) -> None:
    local = random_mobile()
    international = f"+84 {local[1:3]} {local[3:6]} {local[6:]}"
    website = await api.create_order(customer={"full_name": "Lê Thị Hoa", "phones": [local]})
    shopee = await api.create_order(customer={"full_name": "Hoa Le", "phones": [international]}, channel="shopee")
    assert website["customer_id"] == shopee["customer_id"]
    found = await get(api, f"/api/customers?phone={international.replace('+', '%2B').replace(' ', '')}")
    assert [c["id"] for c in found["items"]] == [website["customer_id"]]
    history = await get(api, f"/api/customers/{website['customer_id']}/orders")
    assert {o["channel"] for o in history["items"]} == {"website", "shopee"}


@pytest.mark.parametrize("path", ["profile", "points", "orders"])
async def test_unknown_customers_and_bad_paging_are_4xx(api: Api, path: str) -> None:
    unknown = await api.request("GET", f"/api/customers/0193a000-0000-7000-8000-000000000000/{path}")
    assert unknown.status_code == 404 and "customer" in unknown.json()["detail"]
    malformed = await api.request("GET", f"/api/customers/not-a-uuid/{path}")
    assert malformed.status_code in (400, 404)
    if path == "orders":
        order = await api.create_order()
        bad = await api.request("GET", f"/api/customers/{order['customer_id']}/orders?limit=0")
        assert bad.status_code == 422 and "limit" in bad.text
