"""Merge money over HTTP: the customer's current tier whichever order survives, the discount in the preview,
the parcel's recipient and address chosen on the dashboard, and a message when what she pays changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import HANOI, HOAN_KIEM, Api, random_mobile
from tests.integration.dashboard import signed_in
from tests.integration.test_notifications import messages, settled

pytestmark = pytest.mark.anyio

SHIRT = {"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "blue", "unit_price": 380000, "quantity": 1}
DRESS = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}


async def merge(api: Api, body: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
    params = {"dry_run": "true"} if dry_run else {}
    response = await api.request("POST", "/api/orders/merge", json=body, params=params)
    assert response.status_code == (200 if dry_run else 201), response.text
    return dict(response.json())


async def standard_tier(api: Api, customer_id: str) -> None:
    """She moves up to the standard tier (10%) now: an admin's floor takes effect at once."""
    path = f"/api/customers/{customer_id}/tier-floor"
    response = await api.request("PUT", path, json={"manual_floor": "standard"}, key="admin")
    assert response.status_code == 200, response.text


def money(order: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("subtotal", "total", "paid", "cod_amount", "refund_due")
    return (*(order[k] for k in keys), order["discount"], order["shipping"])


async def test_a_merge_gives_her_current_tier_whichever_order_survives(api: Api) -> None:
    # Two orders placed at 0%, then she reaches 10% and places two more: each 0% order meets a 10% one.
    old_a = await api.create_order(prepaid=20000)
    me = old_a["customer_id"]
    old_b = await api.create_order(customer_id=me, prepaid=20000)
    await standard_tier(api, me)
    new_a = await api.create_order(customer_id=me, lines=[SHIRT])
    new_b = await api.create_order(customer_id=me, lines=[SHIRT])
    assert (old_a["discount"]["percent"], new_a["discount"]["percent"]) == (0, 10)

    # The 10% order into the older 0% one (the default survivor), and the other way round.
    into_old_body = {"order_ids": [old_a["id"], new_a["id"]]}
    preview = await merge(api, into_old_body, dry_run=True)
    into_old = await merge(api, into_old_body)
    into_new = await merge(api, {"order_ids": [old_b["id"], new_b["id"]], "into": new_b["id"]})
    assert (into_old["id"], into_new["id"]) == (old_a["id"], new_b["id"])

    subtotal = 450000 + 380000
    assert into_old["discount"] == {"percent": 10, "amount": subtotal // 10, "reason": "standard tier 10%"}
    assert into_old["cod_amount"] == subtotal - subtotal // 10 + 30000 - 20000
    assert money(into_old) == money(into_new)  # the direction changes nothing of the money
    assert money(preview) == money(into_old)  # the preview shows the discount line it will apply
    events = (await api.request("GET", f"/api/orders/{old_a['id']}/events")).json()
    assert events[-1]["changes"]["discount.percent"] == {"before": 0, "after": 10}


async def test_the_fee_follows_the_address_the_parcel_goes_to(api: Api) -> None:
    near = await api.create_order()  # 30.000 ₫, customer pays
    free = await api.create_order(customer_id=near["customer_id"], shipping={"fee": 45000, "payer": "shop"})
    for into in (near["id"], free["id"]):
        body = {"order_ids": [near["id"], free["id"]], "into": into, "address_from": free["id"]}
        shown = await merge(api, body, dry_run=True)
        assert shown["shipping"] == {"fee": 45000, "payer": "shop"}
        assert shown["cod_amount"] == 2 * 450000


async def test_she_is_told_when_a_merge_changes_what_she_pays(api: Api) -> None:
    first = await api.create_order()  # 450.000 + 30.000
    second = await api.create_order(customer_id=first["customer_id"], lines=[SHIRT])  # 380.000 + 30.000
    await merge(api, {"order_ids": [first["id"], second["id"]]}, dry_run=True)
    merged = await merge(api, {"order_ids": [first["id"], second["id"]]})
    assert merged["cod_amount"] == 450000 + 380000 + 30000  # one fee less than the two parcels asked

    found = await settled(api, 1, order_id=first["id"])
    assert [(m["template"], m["purpose"]) for m in found] == [("order_merged", "transactional")]
    assert second["code"] in found[0]["body"] and first["code"] in found[0]["body"]
    assert "860.000 ₫ (trước đây 890.000 ₫)" in found[0]["body"]
    assert await messages(api, order_id=second["id"]) == []


async def test_no_message_when_a_merge_leaves_what_she_pays_as_it_was(api: Api) -> None:
    # The second order's shipping is on the shop and its goods were paid: the parcel asks what the first did.
    first = await api.create_order()
    free = {"fee": 30000, "payer": "shop"}
    second = await api.create_order(customer_id=first["customer_id"], lines=[SHIRT], shipping=free, prepaid=380000)
    merged = await merge(api, {"order_ids": [first["id"], second["id"]]})
    assert merged["cod_amount"] == first["cod_amount"] + second["cod_amount"]
    split = await api.request(
        "POST",
        f"/api/orders/{first['id']}/split",
        json={"parts": [{"lines": [{"line_id": merged["lines"][1]["id"], "quantity": 1}], "shipping": free}]},
        headers={"If-Match": f'"{merged["version"]}"'},
    )
    assert split.status_code == 201, split.text  # shop pays the new parcel's fee: what she pays stays 480.000
    amended = await api.amend(split.json()["orders"][0], {"op": "set_recipient", "name": "Lan"})
    assert amended.status_code == 200, amended.text  # a message that does come, so the wait below ends
    found = await settled(api, 1, customer_id=first["customer_id"])
    assert [m["template"] for m in found] == ["order_amended"]


async def test_she_is_told_when_a_split_adds_a_parcel_fee(api: Api) -> None:
    order = await api.create_order(lines=[DRESS, SHIRT])  # 830.000 + 30.000
    shirt = next(line for line in order["lines"] if line["sku"] == "SHIRT-02")
    body = {
        "parts": [{"lines": [{"line_id": shirt["id"], "quantity": 1}], "shipping": {"fee": 25000, "payer": "customer"}}]
    }
    path = f"/api/orders/{order['id']}/split"
    etag = {"If-Match": f'"{order["version"]}"'}
    assert (await api.request("POST", path, json=body, headers=etag, params={"dry_run": "true"})).status_code == 200
    response = await api.request("POST", path, json=body, headers=etag)
    assert response.status_code == 201, response.text
    original, part = response.json()["orders"]
    assert (original["cod_amount"], part["cod_amount"]) == (480000, 405000)
    found = await settled(api, 1, customer_id=order["customer_id"])
    assert [(m["template"], m["order_id"]) for m in found] == [("order_split", order["id"])]
    body_text = found[0]["body"]
    assert part["code"] in body_text and "480.000 ₫" in body_text and "405.000 ₫" in body_text
    assert "885.000 ₫ (trước đây 860.000 ₫)" in body_text


async def test_the_dashboard_chooses_whose_recipient_and_address_the_parcel_keeps(
    api: Api, settings: Settings, client: httpx.AsyncClient
) -> None:
    staff = await signed_in(settings, client, "mai", "staff")
    first = await api.create_order()
    friend = {
        "name": "Chị Hoa",
        "phones": [random_mobile()],
        "address": {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI},
    }
    second = await api.create_order(customer_id=first["customer_id"], lines=[SHIRT], recipient=friend)
    await standard_tier(api, first["customer_id"])
    page = await staff.get(f"/dashboard/orders/{first['id']}/merge")
    assert page.status_code == 200 and 'name="address_from"' in page.text and 'name="recipient_from"' in page.text
    form = {
        "version": "1",
        "order_ids": second["id"],
        f"v_{second['id']}": "1",
        "recipient_from": second["id"],
        "address_from": second["id"],
    }
    preview = await staff.post(f"/dashboard/orders/{first['id']}/merge", {**form, "intent": "preview"})
    assert preview.status_code == 200, preview.text
    assert "5 Hàng Bài" in preview.text and "Chị Hoa" in preview.text
    assert "standard tier 10%" in preview.text and "83.000 ₫" in preview.text  # the discount line: 10% of 830.000
    done = await staff.post(f"/dashboard/orders/{first['id']}/merge", {**form, "intent": "commit"})
    assert done.status_code == 303, done.text
    survivor = (await api.request("GET", f"/api/orders/{first['id']}")).json()
    assert (
        survivor["recipient"]["name"] == "Chị Hoa" and survivor["recipient"]["phones"] == second["recipient"]["phones"]
    )
    assert survivor["recipient"]["address"]["line"] == "5 Hàng Bài"
    assert survivor["discount"]["percent"] == 10
