"""The customer's link and the dashboard's amend form offer only catalogue variants with stock, at its price."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api, order_payload
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import Dashboard, signed_in
from tests.integration.links import csrf_field, issue_link, page, public, token_of
from tests.integration.test_dashboard_actions import amend_form
from tests.integration.test_edit_page import form_of
from tests.integration.test_edit_page_fields import errors_of
from tests.integration.test_stock import DRESS, SHIRT, dress, stock_of, tryon_shirt

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def catalogue(api: Api) -> None:
    small = {**DRESS, "variants": [*DRESS["variants"], {"size": "S", "color": "red", "price": 440000, "stock": 0}]}
    for product in (small, SHIRT):
        assert (await api.request("POST", "/api/products", json=product)).status_code == 201


async def test_the_link_offers_available_variants_at_the_catalogue_price(api: Api, catalogue: None) -> None:
    # A past order sold DRESS-01 in XL: without the catalogue that size would be offered too.
    old = await api.request("POST", "/api/orders", json=order_payload(lines=[{**dress("M"), "sku": "DRESS-01"}]))
    assert old.status_code == 201
    order = (await api.request("POST", "/api/orders", json=order_payload(lines=[dress("M", unit_price=400000)]))).json()
    token = token_of(await issue_link(api, order))
    seen = (await public(api, token)).json()
    offered = [(v["size"], v["unit_price"]) for v in seen["lines"][0]["variants"]]
    assert offered == [("M", 400000), ("L", 470000)]  # its own first at its own price; S has none left

    swapped = await public(
        api,
        token,
        "/amendments",
        method="POST",
        json={"operations": [{"op": "swap_variant", "line_id": order["lines"][0]["id"], "size": "L"}]},
        headers={"If-Match": f'"{order["version"]}"'},
    )
    assert swapped.status_code == 200, swapped.text
    assert swapped.json()["lines"][0]["unit_price"] == 470000
    assert (await stock_of(api, "DRESS-01"))[("L", "red")] == (1, 1, 0)
    refused = await public(
        api,
        token,
        "/amendments",
        method="POST",
        json={"operations": [{"op": "swap_variant", "line_id": order["lines"][0]["id"], "size": "S"}]},
        headers={"If-Match": f'"{swapped.json()["version"]}"'},
    )
    assert refused.status_code == 422  # not offered: none in stock
    assert refused.json()["errors"][0]["field"] == "operations[0].size"


def _options(html: str, name: str) -> list[tuple[str | None, str | None]]:
    values = re.findall(rf'name="{name}" value="([^"]+)"', html) or re.findall(
        r'<option value="([^"]+)"', html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    )
    return [tuple(json.loads(v.replace("&#34;", '"').replace("&quot;", '"'))) for v in values]


async def test_the_dashboard_swaps_and_sets_tryon_options_from_the_catalogue(
    settings: Settings, client: httpx.AsyncClient, api: Api, catalogue: None
) -> None:
    staff: Dashboard = await signed_in(settings, client, "lan", "staff")
    order = (await api.request("POST", "/api/orders", json=order_payload(lines=[dress("M"), tryon_shirt()]))).json()
    plain, shirt = order["lines"]
    form_page = await staff.get(f"/dashboard/orders/{order['id']}/amend")
    assert form_page.status_code == 200
    assert _options(form_page.text, f"variant_{plain['id']}") == [("M", "red"), ("L", "red")]  # S: none left
    assert _options(form_page.text, f"opts_{shirt['id']}") == [("M", "white"), ("L", "blue"), ("L", "white")]
    assert "470.000₫ · còn 1" in form_page.text

    form = {
        **amend_form(order),
        f"variant_{plain['id']}": json.dumps(["L", "red"]),
        f"optsof_{shirt['id']}": "1",
        f"opts_{shirt['id']}": [json.dumps(["M", "white"]), json.dumps(["L", "blue"])],
    }
    preview = await staff.post(f"/dashboard/orders/{order['id']}/amend", {**form, "intent": "preview"})
    assert preview.status_code == 200, preview.text
    committed = await staff.post(f"/dashboard/orders/{order['id']}/amend", {**form, "intent": "commit"})
    assert committed.status_code == 303, committed.text
    after = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (after["lines"][0]["size"], after["lines"][0]["unit_price"]) == ("L", 470000)
    assert [(o["size"], o["color"]) for o in after["lines"][1]["tryon_options"]] == [("M", "white"), ("L", "blue")]
    assert await stock_of(api, "SHIRT-02") == {
        ("M", "white"): (2, 1, 1),
        ("L", "white"): (2, 0, 2),
        ("L", "blue"): (1, 1, 0),
    }
    assert (await stock_of(api, "DRESS-01"))[("L", "red")] == (1, 1, 0)


async def test_more_than_the_shop_has_is_said_on_the_quantity_of_her_page(api: Api, catalogue: None) -> None:
    order = (await api.request("POST", "/api/orders", json=order_payload(lines=[dress("M")]))).json()
    token = token_of(await issue_link(api, order))
    line = order["lines"][0]["id"]
    form = form_of(order, csrf_field((await page(api, token)).text), **{f"qty-{line}": "6"})  # 5 in stock
    answer = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert answer.status_code == 409, answer.text
    assert errors_of(answer.text) == {f"qty-{line}": "Số lượng: cửa hàng không còn đủ hàng cho số lượng này"}
    assert (await stock_of(api, "DRESS-01"))[("M", "red")] == (5, 1, 4)
