"""Dashboard orders: the list's filters and search, the order page with its timeline, no query per row."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import event

from orders_service.infra.settings import Settings
from tests.integration.api import Api, order_payload, random_mobile
from tests.integration.dashboard import Dashboard, seed_orders, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


def listed(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return re.findall(r'<a href="/dashboard/orders/[0-9a-f-]+">(DH\w+)</a>', page.text)


async def test_find_an_order_by_any_phone_form_or_its_code(staff: Dashboard, api: Api) -> None:
    mine = await api.create_order()
    other = await api.create_order()
    phone = mine["recipient"]["phones"][0]  # +849xxxxxxxx
    local = "0" + phone[3:]
    for form in (phone, local, f"{local[:4]} {local[4:7]} {local[7:]}", "84-" + phone[3:]):
        assert listed(await staff.get("/dashboard/orders", params={"q": form})) == [mine["code"]], form
    assert listed(await staff.get("/dashboard/orders", params={"q": other["code"].lower()})) == [other["code"]]
    bad = await staff.get("/dashboard/orders", params={"q": "12"})
    assert bad.status_code == 422 and "q" in bad.text and listed(bad.__class__(200, text=bad.text)) == []


async def test_find_orders_by_a_name_with_or_without_accents(staff: Dashboard, api: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    hers = await api.create_order(customer={"full_name": f"Hoàng Thị Lan {tag}", "phones": [random_mobile()]})
    gift = await api.create_order(recipient={**order_payload()["recipient"], "name": f"Trịnh Văn Lân {tag}"})
    await api.create_order()  # Nguyễn Thị Lan, another tag-less Lan
    for q in (f"lan {tag}", f"LAN {tag}", f"Hoang {tag}", f"{tag} hoàng"):
        assert listed(await staff.get("/dashboard/orders", params={"q": q})) == [hers["code"]], q
    # Accents are optional for her profile's name: "Lân" also finds Lan; the recipient's name as typed.
    found = listed(await staff.get("/dashboard/orders", params={"q": f"Lân {tag}"}))
    assert sorted(found) == sorted([hers["code"], gift["code"]])
    both = (await api.request("GET", "/api/orders", params={"q": tag})).json()
    assert sorted(o["code"] for o in both["items"]) == sorted([hers["code"], gift["code"]])
    assert listed(await staff.get("/dashboard/orders", params={"q": "100%_lan"})) == []


async def test_filters_by_status_courier_and_date(staff: Dashboard, api: Api) -> None:
    first = await api.create_order()
    second = await api.create_order()
    confirmed = await api.request("POST", f"/api/orders/{second['id']}/confirm", headers={"If-Match": '"1"'})
    assert confirmed.status_code == 200
    assert listed(await staff.get("/dashboard/orders", params={"status": "confirmed"})) == [second["code"]]
    assert set(listed(await staff.get("/dashboard/orders", params={"courier": "sandbox"}))) >= {first["code"]}
    assert listed(await staff.get("/dashboard/orders", params={"courier": "ghn"})) == []
    assert listed(await staff.get("/dashboard/orders", params={"date_to": "2020-01-01"})) == []
    assert listed(await staff.get("/dashboard/orders", params={"sync_failed": "true"})) == []
    refused = await staff.get("/dashboard/orders", params={"status": "lost", "date_from": "yesterday"})
    assert refused.status_code == 422


async def test_order_page_shows_money_phones_and_the_timeline(staff: Dashboard, api: Api) -> None:
    order = await api.create_order(prepaid=100000)
    amended = await api.amend(order, {"op": "set_shipping", "fee": 45000})
    assert amended.status_code == 200
    page = await staff.get(f"/dashboard/orders/{order['id']}")
    assert page.status_code == 200
    text = page.text
    assert order["code"] in text and order["recipient"]["phones"][0] in text
    assert "380.000 ₫" in text  # COD: 450.000 + 30.000 - 100.000
    assert "395.000 ₫" in text  # after the fee became 45.000
    assert "Sửa đơn" in text and "Tạo đơn" in text and "Phí giao hàng" in text
    assert text.index("395.000 ₫") < text.index("Tạo đơn")  # newest first
    missing = await staff.get("/dashboard/orders/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


@contextlib.contextmanager
def counted(app: Litestar, settings: Settings) -> Iterator[list[str]]:
    """The statements the page's request sends. In-process the request runs in the test's task, and the
    embedded relay, in its own task, is left out; on the Celery engine the relay is another process."""
    statements: list[str] = []
    engine = app.state.runtime.engine.sync_engine
    mine = asyncio.current_task() if settings.relay == "embedded" else None

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The loyalty program's refresh (at most one per 5 s per process, whatever the page) is not the page's.
        if "FROM shop_settings" in statement:
            return
        if mine is None or asyncio.current_task() is mine:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_list_of_100_orders_costs_the_same_queries_as_a_list_of_2(
    staff: Dashboard, api: Api, app: Litestar, settings: Settings
) -> None:
    first = await api.create_order()
    customer = {"customer_id": first["customer_id"]}
    await api.create_order(**customer)
    few = {"q": first["recipient"]["phones"][0], "per_page": "100"}
    with counted(app, settings) as small:
        assert len(listed(await staff.get("/dashboard/orders", params=few))) == 2
    await seed_orders(settings, 98)
    with counted(app, settings) as large:
        assert len(listed(await staff.get("/dashboard/orders", params={"per_page": "100"}))) == 100
    # The COUNT only for the full page (two orders on a page of 100 are every match).
    assert len(large) <= len(small) + 1, (small, large)
    assert len(large) <= 3, large  # session, the orders with their names and sync states, count
