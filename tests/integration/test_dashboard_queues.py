"""Dashboard work queues: a refused courier sync retried, a partial try-on delivery reviewed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.dashboard import Dashboard, put_in_state, signed_in

pytestmark = pytest.mark.anyio

TRYON = {
    "sku": "DRESS-07",
    "name": "Đầm thử",
    "quantity": 1,
    "tryon_options": [
        {"size": "M", "color": "red", "unit_price": 450000},
        {"size": "L", "color": "red", "unit_price": 420000},
    ],
}


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


async def pending_messages(settings: Settings, order: dict[str, Any]) -> list[str]:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            query = select(OutboxMessage.topic).where(OutboxMessage.key == order["id"])
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


async def test_a_refused_sync_shows_the_couriers_message_and_is_retried(
    staff: Dashboard, api: Api, settings: Settings
) -> None:
    order = await api.create_order()
    await put_in_state(settings, order, sync_state="sync_failed", last_error="Số điện thoại không hợp lệ")
    queue = await staff.get("/dashboard/queues")
    assert queue.status_code == 200 and order["code"] in queue.text and "Số điện thoại không hợp lệ" in queue.text
    listed = await staff.get("/dashboard/orders", params={"sync_failed": "true"})
    assert order["code"] in listed.text
    retried = await staff.post(f"/dashboard/queues/sync-failed/{order['id']}/retry")
    assert retried.status_code == 303
    assert "order.sync_retried" in await pending_messages(settings, order)
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    # On the Celery engine the worker may already have pushed the order (courier_acknowledged comes after).
    retries = [event for event in events if event["type"] == "sync_retried"]
    assert [event["actor"] for event in retries] == [{"kind": "staff", "id": "lan"}], events
    again = await staff.post(f"/dashboard/queues/sync-failed/{order['id']}/retry")
    assert again.status_code == 409  # nothing failed any more


async def test_a_partial_tryon_delivery_is_reviewed_from_the_queue(
    staff: Dashboard, api: Api, settings: Settings
) -> None:
    order = await api.create_order(lines=[TRYON])
    await put_in_state(settings, order)
    queue = await staff.get("/dashboard/queues")
    assert order["code"] in queue.text and f"/dashboard/orders/{order['id']}/review" in queue.text
    form = await staff.get(f"/dashboard/orders/{order['id']}/review")
    assert form.status_code == 200 and "420.000 ₫" in form.text
    line = order["lines"][0]["id"]
    too_many = await staff.post(f"/dashboard/orders/{order['id']}/review", {"version": "1", f"kept_{line}_1": "3"})
    assert too_many.status_code == 422 and "Số lượng" in too_many.text
    done = await staff.post(
        f"/dashboard/orders/{order['id']}/review", {"version": "1", f"kept_{line}_1": "1", "note": "giữ size L"}
    )
    assert done.status_code == 303, done.text
    final = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (final["status"], final["subtotal"], final["cod_amount"]) == ("delivered", 420000, 450000)
    assert order["code"] not in (await staff.get("/dashboard/queues")).text
