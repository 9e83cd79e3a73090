"""The edit window (ORDERS_EDIT_WINDOW_MINUTES) through HTTP on SQLite and PostgreSQL: a ship asked too soon is
scheduled (`ship_at`), staff can send it at once, the relay hands it over when due, and a change the customer
makes through her link holds it longer. The clock is pinned: no test waits for real minutes."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from orders_service.infra import clock
from orders_service.infra.settings import Settings
from tests.integration.api import HANOI, HOAN_KIEM, Api, eventually
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.links import issue_link, public, token_of

pytestmark = pytest.mark.anyio

WINDOW = 30  # minutes
T0 = datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC)  # 10:00 in Việt Nam
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for made in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(made, edit_window_minutes=WINDOW)


def at(when: datetime.datetime) -> Any:
    return clock.pinned(when)


async def confirmed(api: Api) -> dict[str, Any]:
    order = await api.create_order()
    answer = await api.request("POST", f"/api/orders/{order['id']}/confirm", headers={"If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def ship(api: Api, order: dict[str, Any], **params: str) -> Any:
    path = f"/api/orders/{order['id']}/ship"
    return await api.request("POST", path, headers={"If-Match": f'"{order["version"]}"'}, params=params)


async def rescheduled(api: Api, order: dict[str, Any]) -> bool:
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    return any(event["type"] == "ship_rescheduled" for event in events)


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_a_ship_within_the_window_is_scheduled_then_handed_over_when_due(api: Api) -> None:
    with at(T0):
        order = await confirmed(api)
        held = await ship(api, order)
        assert held.status_code == 202, held.text
        body = held.json()
        assert (body["status"], body["shipment"]) == ("confirmed", None)
        ship_at = moment(body["ship_at"])
        assert T0 + WINDOW * MINUTE <= ship_at < T0 + (WINDOW + 1) * MINUTE
        shown = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        assert moment(shown["ship_at"]) == ship_at and shown["shipment"] is None
        events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
        assert events[-1]["type"] == "ship_scheduled"
    with at(T0 + (WINDOW + 1) * MINUTE):

        async def handed_over() -> dict[str, Any] | None:
            current = (await api.request("GET", f"/api/orders/{order['id']}")).json()
            return current if current["shipment"] is not None else None

        done = await eventually(handed_over)
        assert (done["status"], done["courier"], done["ship_at"]) == ("ready_to_ship", "sandbox", None)


async def test_staff_send_a_scheduled_order_at_once(api: Api) -> None:
    with at(T0):
        order = await confirmed(api)
        assert (await ship(api, order)).status_code == 202
        now = await ship(api, order, now="true")
        assert now.status_code == 200, now.text
        assert now.json()["status"] == "ready_to_ship" and now.json()["shipment"] is not None
        assert now.json()["ship_at"] is None


async def test_her_change_through_the_link_holds_the_order_longer(api: Api) -> None:
    with at(T0):
        order = await confirmed(api)
        assert (await ship(api, order)).status_code == 202
        token = token_of(await issue_link(api, order))
    with at(T0 + 20 * MINUTE):
        move = {"op": "set_address", "address": {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI}}
        changed = await public(
            api, token, "/amendments", "POST", json={"operations": [move]}, headers={"If-Match": '"2"'}
        )
        assert changed.status_code == 200, changed.text
        shown = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        assert moment(shown["ship_at"]) >= T0 + (20 + WINDOW) * MINUTE
    with at(T0 + (WINDOW + 1) * MINUTE):  # the first schedule falls due, but she changed it 11 minutes ago
        await eventually(lambda: rescheduled(api, order))
        still = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        assert still["shipment"] is None and still["status"] == "confirmed"
    with at(T0 + (20 + WINDOW + 1) * MINUTE):

        async def handed_over() -> dict[str, Any] | None:
            current = (await api.request("GET", f"/api/orders/{order['id']}")).json()
            return current if current["shipment"] is not None else None

        assert (await eventually(handed_over))["status"] == "ready_to_ship"


async def test_the_dashboard_shows_the_schedule_and_sends_it_now(settings: Settings, api: Api) -> None:
    staff = await signed_in(settings, api.client, "lan", "staff")
    with at(T0):
        order = await confirmed(api)
        held = await staff.post(f"/dashboard/orders/{order['id']}/ship", {"version": str(order["version"])})
        assert held.status_code == 303, held.text
        page = await staff.get(f"/dashboard/orders/{order['id']}")
        assert 'id="ship-at"' in page.text and "02/03/2026 10:3" in page.text  # 10:30 in Việt Nam
        sent = await staff.post(f"/dashboard/orders/{order['id']}/ship-now", {"version": str(order["version"])})
        assert sent.status_code == 303, sent.text
        shipped = (await api.request("GET", f"/api/orders/{order['id']}")).json()
        assert shipped["status"] == "ready_to_ship" and shipped["shipment"] is not None


async def test_the_link_page_tells_her_until_when_she_can_change_freely(api: Api) -> None:
    with at(T0):
        order = await confirmed(api)
        token = token_of(await issue_link(api, order))
        page = await api.client.get(f"/o/{token}")
        assert page.status_code == 200
        assert "sửa đơn thoải mái đến 10:3" in page.text and "02/03/2026 (giờ Việt Nam)" in page.text
        assert (await ship(api, order, now="true")).status_code == 200
        after = await api.client.get(f"/o/{token}")
        assert 'id="free-until"' not in after.text  # with the courier now: the window is over
