"""What a ship asks of the database, counted (never timed) on SQLite and PostgreSQL: at once, held by the edit
window, and sent at once while scheduled. The shop's saved window, the order's schedule and when its window
started come in the order's own locked SELECT (shipping/window.py's `_ALONG`), not in statements of their own;
and on PostgreSQL, a schedule written while the ship waited for the order's lock is still seen."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.schedule_models import ShipSchedule
from orders_service.domain.model import Actor, ActorKind
from orders_service.infra import clock
from orders_service.infra.settings import Settings
from orders_service.orders.services import get_order, record_note
from orders_service.shop_settings.schemas import ShippingRules
from orders_service.shop_settings.services import SHIPPING, save
from tests.integration.test_hotpath_statements import Paths, _outbox, _show, paths, settings

__all__ = ["paths", "settings"]  # the fixtures, shared with the hot paths' module

pytestmark = pytest.mark.anyio
WINDOW = 30  # minutes, saved by an admin (the environment's is 0)
STAFF = Actor(kind=ActorKind.STAFF, id="other-staff")
_WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")


async def _window_saved(settings: Settings) -> None:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            rules = ShippingRules(ship_rule="cheapest", edit_window_minutes=WINDOW)
            await save(session, SHIPPING, rules, "admin", clock.now())
    finally:
        await engine.dispose()


async def _schedules(settings: Settings, order_id: str) -> int:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            found = select(func.count()).select_from(ShipSchedule).where(ShipSchedule.order_id == UUID(order_id))
            return int(await session.scalar(found) or 0)
    finally:
        await engine.dispose()


async def _confirmed(paths: Paths) -> tuple[dict[str, Any], dict[str, str]]:
    order = await paths.api.create_order()
    path = f"/api/orders/{order['id']}"
    confirmed = await paths.api.request("POST", f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'})
    return order, paths.api.headers() | {"If-Match": f'"{confirmed.json()["version"]}"'}


# BEGIN, the order locked (with its lines and parcel, and beside it the shop's saved shipping rules, its schedule
# and when its edit window started), UPDATE orders, INSERT order_events, outbox and shipments, COMMIT. Before: 13,
# the window read in a transaction of its own (BEGIN, SELECT, COMMIT), the order read a second time by
# ship_order, and the new parcel read back after its INSERT for the answer; then 9, the shop's settings and the
# schedule each a SELECT of their own.
MAX_SHIP = 7
# PostgreSQL: UPDATE orders, INSERT order_events and outbox are one statement (orders/store.py), as an amendment's.
MAX_SHIP_PG = 5


async def test_a_ship_is_one_transaction_reading_the_order_once(paths: Paths, settings: Settings) -> None:
    order = await paths.api.create_order()
    path = f"/api/orders/{order['id']}"
    confirmed = await paths.api.request("POST", f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'})
    etag = {"If-Match": f'"{confirmed.json()["version"]}"'}
    response, seen = await paths.counted("POST", f"{path}/ship", headers=paths.api.headers() | etag)
    limit = MAX_SHIP if settings.database_url.startswith("sqlite") else MAX_SHIP_PG
    assert len(seen) <= limit, f"{len(seen)}\n{_show(seen)}"
    assert len([s for s in seen if s.startswith("BEGIN")]) == 1 and seen.count("COMMIT") == 1, _show(seen)
    assert len([s for s in seen if s.startswith("SELECT")]) == 1, _show(seen)
    assert len([s for s in seen if s.startswith("SELECT orders.")]) == 1, _show(seen)
    inserted = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO shipments"))
    assert not [s for s in seen[inserted:] if s.startswith("SELECT")], _show(seen)
    shipped = response.json()
    assert (shipped["status"], shipped["version"]) == ("ready_to_ship", confirmed.json()["version"] + 1)
    again = await paths.api.request("GET", path)
    assert shipped == again.json()  # the answer without the read back is the order as read afterwards
    events = (await paths.api.request("GET", f"{path}/events")).json()
    assert [e["type"] for e in events][-1] == "shipped" and events[-1]["version"] == shipped["version"], events
    messages = await _outbox(settings, order["id"])
    assert [m.payload["version"] for m in messages if m.topic == "order.shipped"] == [shipped["version"]], messages


def _only_the_order_read(seen: list[str]) -> None:
    assert [s[:14] for s in seen if s.startswith("SELECT")] == ["SELECT orders."], _show(seen)


# BEGIN, the order (with the window, schedule and window's start beside it), INSERT ship_schedules, UPDATE orders
# (its last_seq), INSERT order_events and outbox, COMMIT. Before: 10, the shop's settings, the schedule and the
# window's start each a SELECT of their own.
MAX_HELD = 7
# BEGIN, the order, DELETE the schedule, the ship's writes (4 on SQLite, 2 on PostgreSQL), COMMIT. Before: 10.
MAX_SENT_NOW = 8


async def test_a_held_ship_and_a_ship_sent_now_read_only_the_order(paths: Paths, settings: Settings) -> None:
    await _window_saved(settings)
    order, headers = await _confirmed(paths)
    ship = f"/api/orders/{order['id']}/ship"
    held, seen = await paths.counted("POST", ship, headers=headers)
    assert held.status_code == 202 and held.json()["ship_at"], held.text
    assert len(seen) <= MAX_HELD, f"{len(seen)}\n{_show(seen)}"
    _only_the_order_read(seen)
    assert await _schedules(settings, order["id"]) == 1
    # Asked again (still within the window): the schedule is moved, not a second one made.
    again, seen = await paths.counted("POST", ship, headers=headers)
    assert again.status_code == 202, again.text
    _only_the_order_read(seen)
    assert await _schedules(settings, order["id"]) == 1
    sent, seen = await paths.counted("POST", ship, headers=headers, params={"now": "true"})
    assert sent.status_code == 200 and sent.json()["status"] == "ready_to_ship", sent.text
    assert len(seen) <= MAX_SENT_NOW, f"{len(seen)}\n{_show(seen)}"
    _only_the_order_read(seen)
    assert await _schedules(settings, order["id"]) == 0


async def _held_meanwhile(settings: Settings, order: dict[str, Any], locked: threading.Event) -> str:
    """Another staff's held ship, mid-write: the order locked, its schedule and note written; committed once the
    ship's SELECT waits on the lock (or after 5 s: "not waited", and the test fails)."""
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            row = await get_order(session, UUID(order["id"]), lock=True)
            session.add(ShipSchedule(order_id=row.id, ship_at=clock.now(), courier=row.courier, requested_by="x"))
            record_note(session, row, STAFF, "ship_scheduled", "held by the test")
            await session.flush()
            locked.set()
            async with engine.connect() as watcher:
                for _ in range(500):
                    if await watcher.scalar(_WAITING):
                        return "waited"
                    await asyncio.sleep(0.01)
            return "not waited"
    finally:
        await engine.dispose()


async def test_a_schedule_made_while_the_ship_waits_for_the_lock_is_seen(paths: Paths, settings: Settings) -> None:
    """PostgreSQL: the ship's SELECT waits for the order's lock; what the subqueries beside the order read is from
    before the other transaction committed. The order's last_seq tells: the schedule is read again, and the ship
    sent now takes it away (else it would stay, and hand the shipped order over again when due)."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite: one writer at a time, BEGIN IMMEDIATE before the read; nothing to wait on mid-statement")
    await _window_saved(settings)
    order, headers = await _confirmed(paths)
    # The app answers in the test client's thread while this one waits: the other writer runs in a thread too.
    locked, outcome = threading.Event(), Future[str]()

    def meanwhile() -> None:
        try:
            outcome.set_result(asyncio.run(_held_meanwhile(settings, order, locked)))
        except BaseException as error:
            outcome.set_exception(error)
            locked.set()

    other = threading.Thread(target=meanwhile)
    other.start()
    assert locked.wait(30)
    sent = await paths.api.client.post(f"/api/orders/{order['id']}/ship", headers=headers, params={"now": "true"})
    other.join(30)
    assert outcome.result(0) == "waited", outcome.result(0)
    assert sent.status_code == 200 and sent.json()["status"] == "ready_to_ship", sent.text
    assert await _schedules(settings, order["id"]) == 0
    events = (await paths.api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert [e["type"] for e in events][-2:] == ["ship_scheduled", "shipped"], events
