"""The dashboard in Vietnamese and English (gettext catalogues): the language chosen by ?lang=, a cookie, then
Accept-Language; codes shown in words; and refusals that name the field in words, never the API's internals."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import HOAN_KIEM, Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import Dashboard, signed_in
from tests.integration.test_dashboard_actions import SHIRT, amend_form

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """SQLite and PostgreSQL, not the Celery engine: what these pages say does not depend on where the relay runs."""
    yield from engine_settings(request, tmp_path)


# What a person must never read on a page: a field path, a Python/API name, raw JSON, the services' English.
FIELD_PATH = re.compile(r"\b[a-z_]+\[\d+\]|\b[a-z]+\.[a-z_]+\b")
PYTHON_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")
ENGLISH = re.compile(r"\b(must|expected|only an admin|is not a|already belongs|changed meanwhile|give |no customer)\b")


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


def visible(page: httpx.Response) -> str:
    """The page's text as a person reads it: no tags, attributes, scripts or styles."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page.text, flags=re.S)
    text = re.sub(r"<textarea\b.*?</textarea>", " ", text, flags=re.S)  # what she typed, sent back to her
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def alerts(page: httpx.Response) -> list[str]:
    found = re.findall(r'role="alert">(.*?)</(?:p|li|div)>', page.text, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", a)).strip() for a in found]


def readable(page: httpx.Response, language: str) -> None:
    assert page.headers["content-type"].startswith("text/html"), page.text[:200]
    text = visible(page)
    assert not text.lstrip().startswith("{") and '{"' not in text, text[:300]
    for said in alerts(page) or [text]:
        assert not FIELD_PATH.search(said), said
        assert not PYTHON_NAME.search(said), said
        if language == "vi":
            assert not ENGLISH.search(said), said
    assert f'<html lang="{language}">' in page.text


async def test_the_language_comes_from_the_query_then_the_cookie_then_the_browser(
    settings: Settings, client: httpx.AsyncClient, staff: Dashboard
) -> None:
    default = await staff.get("/dashboard/orders")
    assert '<html lang="vi">' in default.text and ">Đơn hàng</a>" in default.text
    english = await staff.get("/dashboard/orders", params={"lang": "en"})
    assert '<html lang="en">' in english.text and ">Orders</a>" in english.text and ">To do</a>" in english.text
    assert "lang=en" in english.headers["set-cookie"]
    kept = await staff.get("/dashboard/customers")  # the cookie remembers it
    assert '<html lang="en">' in kept.text and 'hreflang="vi"' in kept.text  # the link back to Vietnamese
    back = await staff.get("/dashboard/customers", params={"lang": "vi", "q": "Lan"})
    assert '<html lang="vi">' in back.text and "/dashboard/customers?q=Lan&amp;lang=en" in back.text
    other = await signed_in(settings, client, "mai", "staff")
    asked = await other.get("/dashboard/orders", headers={"Accept-Language": "fr-FR, en;q=0.8, vi;q=0.5"})
    assert '<html lang="en">' in asked.text
    assert '<html lang="vi">' in (await other.get("/dashboard/orders", headers={"Accept-Language": "vi"})).text
    login = await Dashboard(client).get("/dashboard/login", params={"lang": "en"})
    assert 'id="languages"' in login.text and '<html lang="en">' in login.text


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_bad_input_on_every_page_reads_as_words_in_her_language(
    settings: Settings, client: httpx.AsyncClient, staff: Dashboard, api: Api, language: str
) -> None:
    order = await api.create_order()
    await staff.get("/dashboard/orders", params={"lang": language})
    path = f"/dashboard/orders/{order['id']}/amend"
    second_bad = amend_form(order, phones=order["recipient"]["phones"][0] + "\n12345")
    wrong_phone = await staff.post(path, {**second_bad, "intent": "commit"})
    assert wrong_phone.status_code == 422
    readable(wrong_phone, language)
    phone_words = {"vi": "Số điện thoại thứ 2", "en": "Phone number no. 2"}[language]
    assert any(phone_words in a for a in alerts(wrong_phone)), alerts(wrong_phone)
    for change in ({"ward_code": str(HOAN_KIEM)}, {"fee": "-1"}, {"fee": "nhiều"}, {}):
        refused = await staff.post(path, {**amend_form(order, **change), "intent": "commit"})
        assert refused.status_code == 422, change
        readable(refused, language)
    stale = await staff.post(path, {**amend_form(order, fee="1000", version="0"), "intent": "commit"})
    readable(stale, language)
    for bad_url in ("/dashboard/orders/abc", "/dashboard/customers/abc", f"/dashboard/orders/{order['id']}x/amend"):
        missing = await staff.get(bad_url)
        assert missing.status_code == 404, bad_url
        readable(missing, language)
    readable(await staff.get("/dashboard/orders", params={"q": "12"}), language)
    merge = f"/dashboard/customers/{order['customer_id']}/merge"
    await staff.get(merge)
    readable(await staff.post(merge, {"intent": "preview"}), language)
    readable(await staff.post(merge, {"from": order["customer_id"], "intent": "preview"}), language)
    not_admin = await staff.get("/dashboard/settings")
    assert not_admin.status_code == 403
    readable(not_admin, language)
    assert "admin" in alerts(not_admin)[0]
    admin = await signed_in(settings, client, f"boss{language}", "admin")
    await admin.get("/dashboard/settings", params={"lang": language})
    tiers = await admin.post("/dashboard/settings/loyalty", {"tiers": "gold:abc", "points_per_vnd": "x"})
    assert tiers.status_code == 422
    readable(tiers, language)
    cancelled = await api.request("POST", f"/api/orders/{order['id']}/cancel", headers={"If-Match": '"1"'})
    assert cancelled.status_code == 200
    refused = await staff.post(f"/dashboard/orders/{order['id']}/edit-link")
    readable(refused, language)


async def test_codes_read_as_words_and_a_split_order_links_its_parts(staff: Dashboard, api: Api) -> None:
    order = await api.create_order(lines=[SHIRT])
    await staff.get(f"/dashboard/orders/{order['id']}/edit-link")
    assert (await staff.post(f"/dashboard/orders/{order['id']}/edit-link")).status_code == 200
    line = order["lines"][0]["id"]
    assert (
        await staff.post(
            f"/dashboard/orders/{order['id']}/split", {"version": "1", f"take_{line}": "1", "intent": "commit"}
        )
    ).status_code == 303
    page = await staff.get(f"/dashboard/orders/{order['id']}")
    text = visible(page)
    for code in ("edit_link_created", "split", "staff", "created"):
        assert not re.search(rf"(?<![\w/-]){code}(?![\w/-])", text), code
    assert "Gửi link sửa đơn cho khách" in text and "· lan ·" in text
    assert "Giảm giá" not in text and "Đã trả trước" not in text  # nothing off, nothing prepaid: no line
    parts = re.findall(r'<a href="/dashboard/orders/([0-9a-f-]+)" data-rel="part">(DH\w+)</a>', page.text)
    assert len(parts) == 1
    part = await staff.get(f"/dashboard/orders/{parts[0][0]}", params={"lang": "en"})
    assert f'data-rel="origin">{order["code"]}</a>' in part.text and "Split from the original order" in part.text
    assert "Edit link sent to the customer" not in part.text and "Split off another order" in part.text


async def test_profile_codes_in_words(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    profile = await staff.get(f"/dashboard/customers/{order['customer_id']}", params={"lang": "en"})
    text = visible(profile)
    assert "Membership tier: Member" in text and not re.search(r"\bmember\b", text)
