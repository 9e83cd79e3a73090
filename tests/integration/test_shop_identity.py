"""The shop's name, phone, address and public URL as settings: an admin sets them in the dashboard, and the
customer's page, her new links and her messages use them at once; a bad value is refused and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api, eventually
from tests.integration.dashboard import Dashboard, signed_in
from tests.integration.links import issue_link, page, public, token_of

pytestmark = pytest.mark.anyio

SHOP = {
    "name": "Tiệm Váy Lan",
    "phone": "0912 345 678",
    "address": "45 Nguyễn Huệ, Phường Sài Gòn, TP. Hồ Chí Minh",
    "public_url": "https://don.tiemvaylan.vn/",
}


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "owner", "admin")


async def test_the_shop_an_admin_sets_is_on_her_page_her_links_and_her_messages(admin: Dashboard, api: Api) -> None:
    order = await api.create_order()
    before = await page(api, token_of(await issue_link(api, order)))
    settings: Settings = api.app.state.settings
    assert settings.shop_name in before.text and "028 3822 1234" in before.text  # the environment's until set
    form = (await admin.get("/dashboard/settings")).text
    assert 'action="/dashboard/settings/shop"' in form and 'placeholder="028 3822 1234"' in form

    for field, value in (("phone", "12345"), ("public_url", "don.tiemvaylan.vn"), ("name", "Lan\nVáy")):
        refused = await admin.post("/dashboard/settings/shop", {**SHOP, field: value})
        assert refused.status_code == 422 and field in refused.text, (field, refused.text)
    assert "Tiệm Váy Lan" not in (await admin.get("/dashboard/settings")).text  # nothing was saved

    saved = await admin.post("/dashboard/settings/shop", SHOP)
    assert saved.status_code == 303, saved.text
    assert 'value="+84912345678"' in (await admin.get("/dashboard/settings")).text  # kept in E.164

    link = await issue_link(api, order)
    assert link["url"].startswith("https://don.tiemvaylan.vn/o/")
    shown = await page(api, token_of(link))
    assert shown.status_code == 200
    assert "Tiệm Váy Lan" in shown.text and 'href="tel:+84912345678"' in shown.text and "0912 345 678" in shown.text
    assert SHOP["address"] in shown.text and settings.shop_name not in shown.text
    body = (await public(api, token_of(link))).json()
    assert body["shop"] == {"name": "Tiệm Váy Lan", "phone": "+84912345678", "address": SHOP["address"]}

    async def message() -> str | None:
        found = await api.request("GET", "/api/notifications", params={"order_id": order["id"]})
        bodies = [str(m["body"]) for m in found.json()["items"] if m["template"] == "edit_link"]
        return next((b for b in bodies if link["url"] in b), None)

    text = await eventually(message)
    assert text.startswith("Tiệm Váy Lan:")

    blank = await admin.post("/dashboard/settings/shop", {k: "" for k in SHOP})  # back to the environment's
    assert blank.status_code == 303
    again = await issue_link(api, order)
    assert again["url"].startswith(settings.public_base_url + "/o/")
    assert settings.shop_name in (await page(api, token_of(again))).text
