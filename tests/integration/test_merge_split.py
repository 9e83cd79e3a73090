"""Merge and split through HTTP: money to the đồng, conflicts named per order, couriers brought along."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api import HANOI, HOAN_KIEM, Api, Shipping, eventually, random_mobile

pytestmark = pytest.mark.anyio

SHIRT = {"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "blue", "unit_price": 380000, "quantity": 1}
DRESS = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


async def two_orders(api: Api, **second: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    first = await api.create_order(prepaid=100000)
    payload = {"customer_id": first["customer_id"], "lines": [SHIRT, DRESS], "prepaid": 50001, **second}
    other = await api.create_order(**payload)
    return first, other


async def merge(api: Api, body: dict[str, Any], dry_run: bool = False) -> Any:
    return await api.request("POST", "/api/orders/merge", json=body, params={"dry_run": "true"} if dry_run else {})


async def test_two_orders_become_one_parcel_with_money_to_the_dong(api: Api) -> None:
    first, second = await two_orders(api)
    body = {"order_ids": [first["id"], second["id"]], "into": first["id"]}
    preview = await merge(api, body, dry_run=True)
    assert preview.status_code == 200, preview.text
    assert (await api.request("GET", f"/api/orders/{second['id']}")).json()["status"] == "pending"  # nothing saved

    response = await merge(api, body)
    assert response.status_code == 201, response.text
    merged = response.json()
    shown = preview.json()
    assert [(x["sku"], x["quantity"]) for x in merged["lines"]] == [(x["sku"], x["quantity"]) for x in shown["lines"]]
    assert (merged["cod_amount"], merged["total"]) == (shown["cod_amount"], shown["total"])  # as previewed
    dresses = [line for line in merged["lines"] if line["sku"] == "DRESS-01"]
    assert len(dresses) == 1 and dresses[0]["quantity"] == 2  # same product, size, colour and price add up
    assert merged["subtotal"] == 450000 * 2 + 380000
    assert merged["shipping"]["fee"] == 30000  # one parcel, one fee
    assert merged["paid"] == 150001
    assert merged["cod_amount"] == merged["subtotal"] + 30000 - 150001
    assert merged["merged_from"] == [second["id"]] and merged["version"] == first["version"] + 1

    source = (await api.request("GET", f"/api/orders/{second['id']}")).json()
    assert source["status"] == "merged" and source["merged_into"] == first["id"]
    assert source["paid"] == 0 and source["cod_amount"] == 0 and source["refund_due"] == 0
    for order_id, kind in ((first["id"], "merged_in"), (second["id"], "merged")):
        events = (await api.request("GET", f"/api/orders/{order_id}/events")).json()
        assert events[-1]["type"] == kind and events[-1]["actor"]["kind"] == "staff"
    again = await api.amend(source, {"op": "set_recipient", "name": "Khác"})
    assert again.status_code == 409


async def test_who_wins_is_explicit(api: Api) -> None:
    friend = random_mobile()
    recipient = {
        "name": "Chị Hoa",
        "phones": [friend],
        "address": {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI},
    }
    first, second = await two_orders(api, recipient=recipient)
    body = {"order_ids": [first["id"], second["id"]], "into": first["id"], "address_from": second["id"]}
    merged = (await merge(api, body)).json()
    assert merged["recipient"]["name"] == first["recipient"]["name"]  # recipient: the `into` order's by default
    assert merged["recipient"]["address"]["ward_code"] == HOAN_KIEM  # the address: the one chosen


async def test_conflicts_name_each_order_and_change_nothing(api: Api, shipping: Shipping) -> None:
    first, second = await two_orders(api)
    stranger = await api.create_order()
    picked = await shipping.ship(await api.create_order(customer_id=first["customer_id"]))
    await shipping.courier_event(picked["shipment"]["tracking_code"], "picked")
    ids = [first["id"], second["id"], stranger["id"], picked["id"]]
    response = await merge(api, {"order_ids": ids, "into": first["id"]})
    assert response.status_code == 409, response.text
    reasons = {c["order_id"]: c["reason"] for c in response.json()["conflicts"]}
    assert set(reasons) == {stranger["id"], picked["id"]}
    assert "another customer" in reasons[stranger["id"]] and "picked it up" in reasons[picked["id"]]
    for order in (first, second):
        assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]

    stale = await merge(api, {"order_ids": [first["id"], second["id"]], "versions": {first["id"]: 0}})
    assert stale.status_code == 409 and "changed since" in stale.json()["conflicts"][0]["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order_ids": ["A"]}, "order_ids"),
        ({"order_ids": []}, "order_ids"),
        ({"order_ids": ["{a}", "{a}"]}, "order_ids"),
        ({"order_ids": ["{a}", "{b}"], "into": "00000000-0000-4000-8000-000000000000"}, "into"),
        ({"order_ids": ["{a}", "00000000-0000-4000-8000-000000000000"]}, "order_ids[1]"),
        ({"order_ids": ["{a}", "{b}"], "recipient_from": "00000000-0000-4000-8000-000000000000"}, "recipient_from"),
        ({"order_ids": ["{a}", "{b}"], "versions": {"x": 1}}, "versions.x"),
    ],
)
async def test_bad_merge_requests_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    first, second = await two_orders(api)
    text = str(body).replace("{a}", first["id"]).replace("{b}", second["id"]).replace("'", '"')
    response = await api.request(
        "POST", "/api/orders/merge", content=text, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await api.request("GET", f"/api/orders/{second['id']}")).json()["status"] == "pending"


async def test_merging_shipped_orders_cancels_the_sources_courier_orders(api: Api, shipping: Shipping) -> None:
    first, second = await two_orders(api)
    first = await shipping.ship(first)
    second = await shipping.ship(second)
    response = await merge(api, {"order_ids": [first["id"], second["id"]]})
    # The source's courier holds a parcel: it joins once the courier confirmed the cancellation.
    assert response.status_code == 202, response.text
    merged = response.json()
    assert merged["id"] == first["id"] or merged["id"] == second["id"]
    source_id = second["id"] if merged["id"] == first["id"] else first["id"]

    async def joined() -> dict[str, Any] | None:
        source = await shipping.order(source_id)
        return source if source["status"] == "merged" else None

    source = await eventually(joined)
    assert source["pending_cancel"] is None and source["merged_into"] == merged["id"]
    final = await shipping.synced(merged["id"])
    assert final["merged_from"] == [source_id]
    parcel = await shipping.parcel(final["shipment"]["tracking_code"])
    assert parcel["cod_amount"] == final["cod_amount"]
    assert sum(item["quantity"] for item in parcel["items"]) == 3
    assert (await shipping.parcel(source["shipment"]["tracking_code"]))["status"] == "cancelled"


async def test_a_split_shares_what_was_paid_and_keeps_the_rest(api: Api) -> None:
    order = await api.create_order(lines=[DRESS, {**SHIRT, "quantity": 3}], prepaid=100001)
    shirt = next(line for line in order["lines"] if line["sku"] == "SHIRT-02")
    friend = {
        "name": "Chị Hoa",
        "phones": [random_mobile()],
        "address": {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI},
    }
    body = {"parts": [{"lines": [{"line_id": shirt["id"], "quantity": 2}], "recipient": friend}], "reason": "late"}
    path = f"/api/orders/{order['id']}/split"
    etag = {"If-Match": f'"{order["version"]}"'}
    preview = await api.request("POST", path, json=body, headers=etag, params={"dry_run": "true"})
    assert preview.status_code == 200, preview.text
    response = await api.request("POST", path, json=body, headers=etag)
    assert response.status_code == 201, response.text
    original, part = response.json()["orders"]
    assert [o["cod_amount"] for o in preview.json()["orders"]] == [original["cod_amount"], part["cod_amount"]]
    assert original["paid"] + part["paid"] == 100001  # no đồng created or lost
    assert part["split_from"] == order["id"] and part["recipient"]["name"] == "Chị Hoa"
    assert part["shipping"]["fee"] >= 40000  # its own quote: Hà Nội is far from the warehouse in HCMC
    assert [(line["sku"], line["quantity"]) for line in part["lines"]] == [("SHIRT-02", 2)]
    assert {line["sku"]: line["quantity"] for line in original["lines"]} == {"DRESS-01": 1, "SHIRT-02": 1}
    assert original["subtotal"] + part["subtotal"] == order["subtotal"]
    assert part["paid"] * original["subtotal"] // part["subtotal"] in range(original["paid"] - 2, original["paid"] + 2)
    events = (await api.request("GET", f"/api/orders/{part['id']}/events")).json()
    assert events[0]["type"] == "split_from" and "late" in events[0]["reason"]
    stale = await api.request("POST", path, json=body, headers=etag)
    assert stale.status_code == 412


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ({"lines": [{"line_id": "00000000-0000-4000-8000-000000000000", "quantity": 1}]}, "parts[0].lines[0].line_id"),
        ({"lines": [{"line_id": "{shirt}", "quantity": 4}]}, "parts[0].lines[0].quantity"),
        ({"lines": [{"line_id": "{shirt}", "quantity": 0}]}, "parts[0].lines[0].quantity"),
        ({"lines": []}, "parts[0].lines"),
        ({"lines": [{"line_id": "{shirt}", "quantity": 3}, {"line_id": "{dress}", "quantity": 1}]}, "parts"),
    ],
)
async def test_bad_splits_name_the_field_and_change_nothing(api: Api, part: dict[str, Any], field: str) -> None:
    order = await api.create_order(lines=[DRESS, {**SHIRT, "quantity": 3}])
    ids = {line["sku"]: line["id"] for line in order["lines"]}
    text = str({"parts": [part]}).replace("{shirt}", ids["SHIRT-02"]).replace("{dress}", ids["DRESS-01"])
    response = await api.request(
        "POST",
        f"/api/orders/{order['id']}/split",
        content=text.replace("'", '"'),
        headers={"If-Match": f'"{order["version"]}"', "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]
