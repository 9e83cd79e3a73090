"""Redeeming points through HTTP: COD goes down, the ledger pays, a cancel gives the points back."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from orders_service.loyalty.points import expire_points
from tests.integration.api import Api, Shipping
from tests.integration.links import issue_link, public, token_of
from tests.integration.test_loyalty import deliver, get

pytestmark = pytest.mark.anyio


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


def ledger_rows(entries: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(e["kind"], e["points"], e["balance_after"]) for e in entries["items"]]


async def test_redeem_lowers_cod_spends_points_and_a_cancel_gives_them_back(api: Api, shipping: Shipping) -> None:
    first = await api.create_order()
    me = first["customer_id"]
    await deliver(api, shipping, first)  # 450,000 VND kept: 45 points
    order = await api.create_order(customer_id=me)  # 450,000 - 10% + 30,000 shipping
    assert order["cod_amount"] == 435_000

    too_many = await api.amend(order, {"op": "set_recipient", "name": "Lan"}, {"op": "redeem_points", "points": 46})
    assert too_many.status_code == 422, too_many.text
    assert too_many.json()["errors"] == [
        {"field": "operations[1].points", "message": "the customer holds 45 points, not 46"}
    ]
    preview = await api.amend(order, {"op": "redeem_points", "points": 45}, dry_run=True)
    assert preview.status_code == 200, preview.text
    assert preview.json()["cod_amount"] == 390_000

    redeemed = await api.amend(order, {"op": "redeem_points", "points": 20})
    assert redeemed.status_code == 200, redeemed.text
    assert (redeemed.json()["paid"], redeemed.json()["cod_amount"]) == (20_000, 415_000)
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["points"] == 25
    again = await api.amend(redeemed.json(), {"op": "redeem_points", "points": 26})
    assert again.status_code == 422, again.text

    cancelled = await api.request(
        "POST", f"/api/orders/{order['id']}/cancel", headers={"If-Match": f'"{redeemed.json()["version"]}"'}
    )
    assert cancelled.status_code == 200, cancelled.text
    # The points went back to her ledger, so the shop owes her no money for them as well.
    assert (cancelled.json()["paid"], cancelled.json()["refund_due"], cancelled.json()["cod_amount"]) == (0, 0, 0)
    assert ledger_rows(await get(api, f"/api/customers/{me}/points")) == [
        ("earn", 45, 45),
        ("redeem", -20, 25),
        ("adjust", 20, 45),
    ]


async def test_points_are_not_redeemed_after_pickup(api: Api, shipping: Shipping) -> None:
    first = await api.create_order()
    await deliver(api, shipping, first)
    order = await api.create_order(customer_id=first["customer_id"])
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "picked")
    current = await shipping.synced(order["id"])
    assert current["status"] == "in_transit"
    refused = await api.amend(current, {"op": "redeem_points", "points": 1})
    assert refused.status_code == 409, refused.text
    assert "points are spent before pickup" in refused.json()["detail"]


async def test_the_daily_expiry_writes_off_what_is_left_once(api: Api, shipping: Shipping, settings: Settings) -> None:
    first = await api.create_order()
    me = first["customer_id"]
    await deliver(api, shipping, first)
    order = await api.create_order(customer_id=me)
    assert (await api.amend(order, {"op": "redeem_points", "points": 5})).status_code == 200
    # The job's own engine, as a beat worker has: the app's runs on the test client's event loop.
    engine = create_engine(settings)
    try:
        db = async_sessionmaker(engine, expire_on_commit=False)
        now = datetime.datetime.now(datetime.UTC)
        assert await expire_points(db, now) == 0  # nothing lapsed yet
        later = now + datetime.timedelta(days=366)
        assert await expire_points(db, later) == 40
        assert await expire_points(db, later) == 0
    finally:
        await engine.dispose()
    assert ledger_rows(await get(api, f"/api/customers/{me}/points"))[-1] == ("expire", -40, 0)
    refused = await api.amend(order, {"op": "redeem_points", "points": 1}, version=order["version"] + 1)
    assert refused.status_code == 422, refused.text


async def test_points_spent_on_a_merged_order_come_back_when_the_survivor_is_cancelled(
    api: Api, shipping: Shipping
) -> None:
    first = await api.create_order()
    me = first["customer_id"]
    await deliver(api, shipping, first)  # 45 points
    keep = await api.create_order(customer_id=me)
    spent_on = await api.create_order(customer_id=me)
    assert (await api.amend(spent_on, {"op": "redeem_points", "points": 20})).status_code == 200
    merged = await api.request(
        "POST", "/api/orders/merge", json={"order_ids": [keep["id"], spent_on["id"]], "into": keep["id"]}
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["paid"] == 20_000  # the points' value followed the payments
    survivor = merged.json()
    cancelled = await api.request(
        "POST", f"/api/orders/{keep['id']}/cancel", headers={"If-Match": f'"{survivor["version"]}"'}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["paid"], cancelled.json()["refund_due"]) == (0, 0)
    rows = ledger_rows(await get(api, f"/api/customers/{me}/points"))
    assert rows == [("earn", 45, 45), ("redeem", -20, 25), ("adjust", 20, 45), ("redeem", -20, 25), ("adjust", 20, 45)]


async def test_she_spends_her_own_points_through_her_link_with_the_same_rules(api: Api, shipping: Shipping) -> None:
    first = await api.create_order()
    me = first["customer_id"]
    await deliver(api, shipping, first)  # 45 points
    order = await api.create_order(customer_id=me)
    token = token_of(await issue_link(api, order))
    too_many = await public(
        api,
        token,
        "/amendments",
        "POST",
        json={"operations": [{"op": "redeem_points", "points": 46}]},
        headers={"If-Match": '"1"'},
    )
    assert too_many.status_code == 422, too_many.text
    assert too_many.json()["errors"] == [
        {"field": "operations[0].points", "message": "the customer holds 45 points, not 46"}
    ]
    redeemed = await public(
        api,
        token,
        "/amendments",
        "POST",
        json={"operations": [{"op": "redeem_points", "points": 20}]},
        headers={"If-Match": '"1"'},
    )
    assert redeemed.status_code == 200, redeemed.text
    assert (redeemed.json()["paid"], redeemed.json()["cod_amount"]) == (20_000, 415_000)
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["points"] == 25
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["actor"]["kind"] == "customer"

    # Someone else's order: her link spends that customer's points, and she has none.
    other = await api.create_order(customer={"full_name": "Mai", "phones": ["0912 000 111"]})
    assert other["customer_id"] != me
    theirs = token_of(await issue_link(api, other))
    none = await public(
        api,
        theirs,
        "/amendments",
        "POST",
        json={"operations": [{"op": "redeem_points", "points": 1}]},
        headers={"If-Match": '"1"'},
    )
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "operations[0].points", none.text
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["points"] == 25
