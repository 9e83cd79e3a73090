"""One person, one profile, through HTTP only: identities on a profile, the audited merge, segments."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.api import Api, Shipping, random_mobile

pytestmark = pytest.mark.anyio


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


async def get(api: Api, path: str, **params: Any) -> Any:
    response = await api.request("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def merge(api: Api, body: dict[str, Any], dry_run: bool = False) -> Any:
    params = {"dry_run": "true"} if dry_run else {}
    return await api.request("POST", "/api/customers/merge", json=body, params=params)


async def deliver(api: Api, shipping: Shipping, order: dict[str, Any]) -> None:
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    assert (await shipping.order(order["id"]))["status"] == "delivered"


def shopee_buyer() -> str:
    return f"buyer_{uuid.uuid4().hex[:10]}"


async def test_two_profiles_of_one_person_merge_into_one(api: Api, shipping: Shipping) -> None:
    phone, shop_phone, buyer = random_mobile(), random_mobile(), shopee_buyer()
    website = await api.create_order(customer={"full_name": "Lê Thị Hoa", "phones": [phone]})
    shopee = await api.create_order(
        channel="shopee",
        customer={
            "full_name": "Hoa Le",
            "phones": [shop_phone],
            "identities": [{"kind": "shopee", "value": f"  {buyer} "}],
        },
    )
    keep, dup = website["customer_id"], shopee["customer_id"]
    assert keep != dup
    await deliver(api, shipping, website)
    await deliver(api, shipping, shopee)
    before_keep = await get(api, f"/api/customers/{keep}/profile")
    before_dup = await get(api, f"/api/customers/{dup}/profile")
    assert (await get(api, f"/api/customers/{dup}"))["identities"] == [{"kind": "shopee", "value": buyer}]

    body = {"from": [dup], "into": keep, "reason": "same person on Shopee"}
    preview = await merge(api, body, dry_run=True)
    assert preview.status_code == 200, preview.text
    points = before_keep["loyalty"]["points"] + before_dup["loyalty"]["points"]
    assert preview.json() == {
        "into": keep,
        "from": [dup],
        "phones": [f"+84{shop_phone[1:]}"],
        "identities": [{"kind": "shopee", "value": buyer}],
        "orders": 1,
        "points_entries": 1,
        "points": points,
        "spend": 900_000,
        "delivered_orders": 2,
        "tier_before": "standard",
        "tier_after": "standard",
    }
    # The dry run changed nothing.
    assert (await get(api, f"/api/customers/{dup}/profile")) == before_dup
    assert (await get(api, "/api/customers", phone=shop_phone))["items"][0]["id"] == dup

    merged = await merge(api, body)
    assert merged.status_code == 201, merged.text
    survivor = merged.json()
    assert survivor["id"] == keep
    assert survivor["phones"] == [f"+84{phone[1:]}", f"+84{shop_phone[1:]}"]
    assert survivor["identities"] == [{"kind": "shopee", "value": buyer}]
    profile = await get(api, f"/api/customers/{keep}/profile")
    assert profile["stats"]["delivered_orders"] == 2
    assert profile["stats"]["total_spent"] == 900_000
    assert profile["loyalty"]["points"] == points
    assert "regular" in profile["segments"]
    assert {o["id"] for o in (await get(api, f"/api/customers/{keep}/orders"))["items"]} == {
        website["id"],
        shopee["id"],
    }
    assert [e["points"] for e in (await get(api, f"/api/customers/{keep}/points"))["items"]] == [45, 45]
    events = await get(api, f"/api/orders/{shopee['id']}/events")
    assert (events[-1]["type"], events[-1]["actor"]["kind"]) == ("customer_merged", "staff")
    # The duplicate is kept, marked, and holds nothing any more.
    old = await get(api, f"/api/customers/{dup}")
    assert (old["merged_into"], old["phones"], old["identities"]) == (keep, [], [])
    assert (await get(api, f"/api/customers/{dup}/points"))["items"] == []
    # Her old phone, in any form, and her Shopee id now find the survivor.
    found = await get(api, "/api/customers", phone=f"+84 {shop_phone[1:]}")
    assert [c["id"] for c in found["items"]] == [keep]
    again = await api.create_order(
        channel="shopee",
        customer={"full_name": "Hoa", "phones": [random_mobile()], "identities": [{"kind": "shopee", "value": buyer}]},
    )
    assert again["customer_id"] == keep
    by_old_id = await api.create_order(customer_id=dup)
    assert by_old_id["customer_id"] == keep

    # A merged source cannot be merged again, nor be merged into.
    twice = await merge(api, body)
    assert twice.status_code == 409, twice.text
    assert twice.json()["errors"][0]["field"] == "from[0]"
    assert twice.json()["customer_id"] == keep
    other = await api.create_order()
    into_merged = await merge(api, {"from": [other["customer_id"]], "into": dup})
    assert into_merged.status_code == 409, into_merged.text
    assert into_merged.json()["errors"][0]["field"] == "into"


async def test_a_marketplace_order_with_a_known_buyer_id_or_email_attaches(api: Api) -> None:
    buyer, email = shopee_buyer(), f"hoa.{uuid.uuid4().hex[:8]}@example.com"
    created = await api.request(
        "POST",
        "/api/customers",
        json={
            "full_name": "Phạm Thu Hà",
            "phones": [random_mobile()],
            "email": email.upper(),
            "identities": [{"kind": "lazada", "value": buyer}],
        },
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["email"] == email
    assert customer["identities"] == [{"kind": "email", "value": email}, {"kind": "lazada", "value": buyer}]
    # A new phone, but a known Lazada buyer id: the same profile, which now knows that phone too.
    new_phone = random_mobile()
    order = await api.create_order(
        channel="lazada",
        customer={"full_name": "Ha", "phones": [new_phone], "identities": [{"kind": "lazada", "value": buyer}]},
    )
    assert order["customer_id"] == customer["id"]
    phones = (await api.request("GET", f"/api/customers/{customer['id']}")).json()["phones"]
    assert phones[1:] == [f"+84{new_phone[1:]}"]
    assert (await api.create_order(customer={"full_name": "Hà", "phones": [new_phone]}))["customer_id"] == customer[
        "id"
    ]
    by_email = await api.create_order(customer={"full_name": "Hà", "phones": [random_mobile()], "email": email})
    assert by_email["customer_id"] == customer["id"]
    # The same buyer id on a new customer is a 409 naming the existing one.
    taken = await api.request(
        "POST",
        "/api/customers",
        json={"full_name": "X", "phones": [random_mobile()], "identities": [{"kind": "lazada", "value": buyer}]},
    )
    assert taken.status_code == 409, taken.text
    assert taken.json()["customer_id"] == customer["id"]
    assert taken.json()["type"].endswith("/identity-taken")


@pytest.mark.parametrize(
    ("identity", "field"),
    [
        ({"kind": "email", "value": "not-an-email"}, "identities[0].value"),
        ({"kind": "shopee", "value": "   "}, "identities[0].value"),
        ({"kind": "myspace", "value": "x"}, "identities[0].kind"),
    ],
)
async def test_bad_identities_are_422_naming_the_field(api: Api, identity: dict[str, str], field: str) -> None:
    response = await api.request(
        "POST", "/api/customers", json={"full_name": "Lan", "phones": [random_mobile()], "identities": [identity]}
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_bad_merges_are_4xx_naming_the_field(api: Api) -> None:
    a = (await api.create_order())["customer_id"]
    b = (await api.create_order())["customer_id"]
    missing = str(uuid.uuid4())
    cases = [
        ({"from": [b, missing], "into": a}, 422, "from[1]"),
        ({"from": [a], "into": a}, 422, "from[0]"),
        ({"from": [b, b], "into": a}, 422, "from[1]"),
        ({"from": [b], "into": missing}, 422, "into"),
        ({"from": [], "into": a}, 422, "from"),
        ({"from": ["nope"], "into": a}, 422, "from[0]"),
        ({"into": a}, 422, "from"),
    ]
    for body, status, field in cases:
        response = await merge(api, body)
        assert response.status_code == status, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.text)
    # Nothing moved.
    assert (await get(api, f"/api/customers/{b}"))["merged_into"] is None


async def test_segments_list_a_customer_in_the_right_segment(api: Api, shipping: Shipping) -> None:
    order = await api.create_order()
    await deliver(api, shipping, order)
    me = order["customer_id"]
    assert "new" in (await get(api, f"/api/customers/{me}/profile"))["segments"]
    segments = {s["name"]: s for s in await get(api, "/api/segments")}
    assert {"new", "regular", "vip", "at_risk", "birthday_this_month", "rfm_champions"} <= set(segments)
    assert segments["new"]["count"] >= 1

    async def members(name: str) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            page = await get(api, f"/api/segments/{name}/customers", limit=200, offset=offset)
            found |= {c["id"] for c in page["items"]}
            offset += 200
            if offset >= page["total"]:
                return found

    assert me in await members("new")
    assert me in await members("rfm_promising")
    assert me not in await members("regular")
    unknown = await api.request("GET", "/api/segments/nope/customers")
    assert unknown.status_code == 404, unknown.text
