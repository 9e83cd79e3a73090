"""The customer's link after pickup or a merge: a read-only page (and JSON view), changes a 409, time still a 410."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api import Api, Shipping, eventually
from tests.integration.links import csrf_field, expire_links, issue_link, page, public, token_of
from tests.integration.test_edit_page import form_of

pytestmark = pytest.mark.anyio


async def picked_up(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    """The order shipped with the sandbox courier and picked up by its driver: in transit."""
    shipping = Shipping(api)
    shipped = await shipping.ship(order)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "picked")

    async def moved() -> dict[str, Any] | None:
        now = await shipping.order(order["id"])
        return now if now["status"] == "in_transit" else None

    return await eventually(moved)


async def test_after_pickup_her_link_shows_what_she_pays_where_the_parcel_is_and_the_shop(api: Api) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    before = await page(api, token)  # she opened her page before pickup; its form is still on her phone
    form = form_of(order, csrf_field(before.text), street="99 Hai Bà Trưng")
    moving = await picked_up(api, order)
    tracking = moving["shipment"]["tracking_code"]

    shown = await page(api, token)
    assert shown.status_code == 200, shown.text
    text = shown.text
    assert "Đang giao hàng" in text and order["code"] in text
    assert '<span class="money">480.000 ₫</span>' in text  # the amount to pay on delivery, "₫" kept with it
    assert tracking in text and "Sandbox" in text
    settings = api.app.state.settings
    assert settings.shop_name in text and 'href="tel:+842838221234"' in text and "028 3822 1234" in text
    assert 'id="edit"' not in text and "cancel" not in text.lower().split("<main>")[1]  # no form, no cancel
    assert "liên hệ cửa hàng" in text.lower()

    body = (await public(api, token)).json()
    assert body["read_only"] is True and body["status"] == "in_transit" and body["cod_amount"] == 480000
    assert body["shipment"] == {"courier": "sandbox", "tracking_code": tracking, "status": "picked"}
    assert body["shop"]["name"] == settings.shop_name and body["shop"]["phone"] == "+842838221234"
    assert body["merged_into"] is None and "customer_id" not in body
    assert all("variants" not in line for line in body["lines"])  # nothing to swap to

    change = {"operations": [{"op": "set_recipient", "name": "Trần Thị Hoa"}]}
    version = f'"{moving["version"]}"'
    for suffix, sent in (("/amendments", {"json": change}), ("/cancel", {})):
        refused = await public(api, token, suffix, "POST", headers={"If-Match": version}, **sent)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/not-amendable") and "only shows" in refused.json()["detail"]
    posted = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert posted.status_code == 409 and "Không thể thay đổi" in posted.text and tracking in posted.text
    cancelled = await page(api, token, "/cancel", method="POST", data={**form, "really": "yes"})
    assert cancelled.status_code == 409 and tracking in cancelled.text
    quote = await page(api, token, "/quote", method="POST", data=form)
    assert (quote.json()["ok"], quote.json()["error"]) == (False, "read_only")
    after = await Shipping(api).order(order["id"])
    assert (after["version"], after["status"], after["recipient"]["name"]) == (
        moving["version"],
        "in_transit",
        moving["recipient"]["name"],
    )

    english = await page(api, token, params={"lang": "en"})
    assert "On its way" in english.text and "Tracking code" in english.text

    await expire_links(settings, order["id"])
    expired = await page(api, token)
    assert expired.status_code == 410 and order["code"] not in expired.text
    assert (await public(api, token)).status_code == 410
    await api.request("DELETE", f"/api/orders/{order['id']}/edit-link")
    assert (await page(api, token)).status_code == 404 and (await public(api, token)).status_code == 404


async def test_a_merged_orders_link_points_to_the_order_it_became(api: Api) -> None:
    kept = await api.create_order(prepaid=100000)
    second = await api.create_order(
        customer_id=kept["customer_id"],
        lines=[{"sku": "SHIRT-02", "name": "Sơ mi", "size": "L", "color": "blue", "unit_price": 380000, "quantity": 1}],
    )
    token = token_of(await issue_link(api, second))
    merged = await api.request(
        "POST", "/api/orders/merge", json={"order_ids": [kept["id"], second["id"]], "into": kept["id"]}
    )
    assert merged.status_code == 201, merged.text
    survivor = merged.json()

    shown = await page(api, token)
    assert shown.status_code == 200, shown.text
    assert "Đã gộp vào đơn khác" in shown.text and survivor["code"] in shown.text
    amount = f"{survivor['cod_amount']:,} ₫".replace(",", ".")
    assert f'id="cod"><span class="money">{amount}</span>' in shown.text
    assert survivor["recipient"]["address"]["line"] not in shown.text.split("<footer")[0]  # no address shown

    body = (await public(api, token)).json()
    assert (body["status"], body["read_only"], body["cod_amount"]) == ("merged", True, 0)
    assert body["merged_into"] == {
        "code": survivor["code"],
        "status": survivor["status"],
        "total": survivor["total"],
        "cod_amount": survivor["cod_amount"],
        "shipment": None,
    }
    refused = await public(
        api,
        token,
        "/amendments",
        "POST",
        json={"operations": [{"op": "set_recipient", "name": "Hoa"}]},
        headers={"If-Match": f'"{body["version"]}"'},
    )
    assert refused.status_code == 409 and "merged" in refused.json()["detail"], refused.text
    assert (await api.request("GET", f"/api/orders/{kept['id']}")).json()["version"] == survivor["version"]
