"""The stories of DESIGN.md, through HTTP only: what the shop, its customer and the courier each see.

Each story ends by replaying every event of the orders it touched: field by field, the history must
rebuild each order exactly as GET shows it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api import Api, Shipping, eventually, random_mobile

pytestmark = pytest.mark.anyio

DA_NANG = 48
DRESS = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
SHIRT = {"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "white", "unit_price": 350000, "quantity": 1}


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


def view(order: dict[str, Any]) -> dict[str, Any]:
    """The fields an order's events speak of, as GET shows them."""
    fields: dict[str, Any] = {
        "status": order["status"],
        "recipient.name": order["recipient"]["name"],
        "recipient.phones": order["recipient"]["phones"],
        "recipient.address": {
            k: order["recipient"]["address"][k]
            for k in ("line", "ward_code", "province_code", "input")
            if order["recipient"]["address"].get(k) is not None
        },
        "shipping.fee": order["shipping"]["fee"],
        "shipping.payer": order["shipping"]["payer"],
        "paid": order["paid"],
        "subtotal": order["subtotal"],
        "discount_amount": order["discount"]["amount"],
        "total": order["total"],
        "cod_amount": order["cod_amount"],
        "refund_due": order["refund_due"],
    }
    for line in order["lines"]:
        keys = ("sku", "name", "quantity", "size", "color", "unit_price", "tryon_options", "kept")
        fields[f"lines.{line['id']}"] = {k: line[k] for k in keys if line.get(k) is not None}
        if "tryon_options" in fields[f"lines.{line['id']}"]:  # each option's weight is the catalogue's, not an event's
            options = [{k: o.get(k) for k in ("size", "color", "unit_price")} for o in line["tryon_options"]]
            fields[f"lines.{line['id']}"]["tryon_options"] = options
    if order.get("note") is not None:
        fields["note"] = order["note"]
    return fields


async def assert_history_rebuilds(api: Api, *orders: dict[str, Any]) -> None:
    for order in orders:
        current = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        state: dict[str, Any] = {}
        for event in (await api.request("GET", f"/api/orders/{order['id']}/events")).json():
            for field, change in event["changes"].items():
                if change["after"] is None:
                    state.pop(field, None)
                else:
                    state[field] = change["after"]
        assert state == view(current), f"the events of {current['code']} do not rebuild it"


async def some_ward(api: Api, province: int) -> int:
    wards = (await api.request("GET", f"/api/geo/provinces/{province}/wards")).json()
    return int(wards[0]["code"])


async def test_gift_to_a_friend(api: Api, shipping: Shipping) -> None:
    order = await shipping.ship(await api.create_order())
    lan_phone = order["recipient"]["phones"][0]
    friend = random_mobile()
    ward = await some_ward(api, DA_NANG)
    # At lunch Chị Lan asks to send it to her friend in Đà Nẵng, with her own phone as a second contact.
    amended = await api.amend(
        order,
        {"op": "set_recipient", "name": "Chị Mai", "phones": [friend, lan_phone]},
        {"op": "set_address", "address": {"line": "20 Bạch Đằng", "ward_code": ward, "province_code": DA_NANG}},
    )
    assert amended.status_code == 200, amended.text
    final = await shipping.synced(order["id"])
    # Same goods; Đà Nẵng is far from the warehouse, so the sandbox charges 20,000 more than within the city.
    assert final["cod_amount"] == order["cod_amount"] + 20000
    parcel = await shipping.parcel(final["shipment"]["tracking_code"])
    assert parcel["recipient_name"] == "Chị Mai"
    assert [p[-9:] for p in parcel["phones"]] == [friend[-9:], lan_phone[-9:]]  # the friend first
    assert parcel["address"]["province_code"] == DA_NANG and parcel["address"]["ward_code"] == ward
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["type"] == "amended" and events[-1]["actor"]["kind"] == "staff"
    await assert_history_rebuilds(api, final)


async def test_two_orders_one_parcel(api: Api, shipping: Shipping) -> None:
    morning = await shipping.ship(await api.create_order())
    evening = await api.create_order(customer_id=morning["customer_id"], lines=[SHIRT], prepaid=50000)
    merged = await api.request("POST", "/api/orders/merge", json={"order_ids": [evening["id"], morning["id"]]})
    assert merged.status_code == 201, merged.text
    one = merged.json()
    assert one["id"] == morning["id"]  # by default, into the order that already has a courier order
    assert one["shipping"]["fee"] == 30000 and one["paid"] == 50000
    assert one["cod_amount"] == 450000 + 350000 + 30000 - 50000
    final = await shipping.synced(one["id"])
    parcel = await shipping.parcel(final["shipment"]["tracking_code"])
    assert parcel["cod_amount"] == one["cod_amount"]  # the courier was told
    assert sorted(item["sku"] for item in parcel["items"]) == ["DRESS-01", "SHIRT-02"]
    gone = (await api.request("GET", f"/api/orders/{evening['id']}")).json()
    assert gone["status"] == "merged" and gone["merged_into"] == one["id"] and gone["cod_amount"] == 0
    await assert_history_rebuilds(api, final, gone)


async def test_which_size(api: Api, shipping: Shipping) -> None:
    dress = {
        "sku": "DRESS-01",
        "name": "Đầm công sở",
        "quantity": 1,
        "tryon_options": [{"size": "M", "unit_price": 450000}, {"size": "L", "unit_price": 470000}],
    }
    shirt = {
        "sku": "SHIRT-02",
        "name": "Sơ mi",
        "quantity": 1,
        "tryon_options": [{"color": "white", "unit_price": 350000}, {"color": "blue", "unit_price": 350000}],
    }
    order = await api.create_order(lines=[dress, shirt])
    assert order["cod_amount"] == 470000 + 350000 + 30000  # until she chooses: the dearest of each
    shipped = await shipping.ship(order)
    tracking = shipped["shipment"]["tracking_code"]
    parcel = await shipping.parcel(tracking)
    assert parcel["cod_amount"] == order["cod_amount"] and len(parcel["items"]) == 4  # every option at the door
    await shipping.courier_event(tracking, "picked")
    # She keeps the dress in L; neither shirt.
    kept = [{"sku": "DRESS-01", "size": "L", "quantity": 1}]
    await shipping.courier_event(tracking, "delivered", kept=kept, cod_collected=470000 + 30000)

    async def final() -> dict[str, Any] | None:
        current = await shipping.order(order["id"])
        return current if current["status"] == "partially_delivered" else None

    done = await eventually(final)
    assert done["subtotal"] == 470000 and done["cod_amount"] == 500000
    kept_lines = {line["sku"]: line["kept"] for line in done["lines"]}
    assert kept_lines["DRESS-01"] == [{"size": "L", "color": None, "unit_price": 470000, "quantity": 1}]
    assert kept_lines["SHIRT-02"] == []
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["actor"]["kind"] == "courier" and events[-1]["cod_after"] == 500000
    await assert_history_rebuilds(api, done)


async def test_out_of_stock_split_and_ship_the_rest(api: Api, shipping: Shipping) -> None:
    order = await api.create_order(lines=[DRESS, SHIRT], prepaid=200000)
    late = next(line for line in order["lines"] if line["sku"] == "SHIRT-02")
    split = await api.request(
        "POST",
        f"/api/orders/{order['id']}/split",
        json={"parts": [{"lines": [{"line_id": late["id"], "quantity": 1}]}], "reason": "sơ mi về muộn"},
        headers={"If-Match": f'"{order["version"]}"'},
    )
    assert split.status_code == 201, split.text
    rest, later = split.json()["orders"]
    assert rest["paid"] + later["paid"] == 200000
    assert rest["subtotal"] + later["subtotal"] == order["subtotal"]
    assert later["status"] == "pending" and later["split_from"] == order["id"] and later["shipment"] is None

    shipped = await shipping.ship(rest)  # the rest goes now
    parcel = await shipping.parcel(shipped["shipment"]["tracking_code"])
    assert [item["sku"] for item in parcel["items"]] == ["DRESS-01"]
    assert parcel["cod_amount"] == shipped["cod_amount"] == 450000 + 30000 - rest["paid"]
    later_shipped = await shipping.ship(later)  # and the shirt when it arrives, in its own parcel
    assert later_shipped["shipment"]["tracking_code"] != shipped["shipment"]["tracking_code"]
    await assert_history_rebuilds(api, shipped, later_shipped)
