"""A change whose COMMIT fails is answered 503 (Retry-After), logged at ERROR, and nothing of it is kept.

Every write path: the API, the customer's link (JSON and page), the dashboard's forms, courier webhooks and
the relay. The fault (tests/integration/db_faults.py) loses the connection at COMMIT: on PostgreSQL the
server process is terminated, on SQLite the driver raises.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from orders_service.relay import core
from tests.integration.api import Api, Shipping, eventually, order_payload
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.db_faults import CommitFault, commit_fails, marked
from tests.integration.links import csrf_field, issue_link, page, public, token_of
from tests.integration.test_ghn_ghtk_service import GHN_HOOK, fake_couriers

pytestmark = pytest.mark.anyio
LATER = datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC)  # a side effect's message, never due here


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


class Errors(logging.Handler):
    """Records at ERROR from the service's loggers (caplog's root handler goes when a fake courier's Litestar app
    configures logging)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler, logger = Errors(), logging.getLogger("orders_service")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def assert_not_saved(response: httpx.Response, errors: Errors, fault: CommitFault) -> None:
    assert fault.failed == 1, "the fault did not fire: the request wrote nothing"
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"].endswith("/not-saved"), response.text
    logged = [r for r in errors.records if r.levelno >= logging.ERROR and "commit failed" in r.getMessage()]
    assert logged, "a failed commit must be logged at ERROR"


async def order_view(api: Api, order_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    order = await api.request("GET", f"/api/orders/{order_id}")
    events = await api.request("GET", f"/api/orders/{order_id}/events")
    assert order.status_code == events.status_code == 200, (order.text, events.text)
    return order.json(), events.json()


async def test_an_amendment_whose_commit_fails_is_503_and_leaves_the_order(api: Api, errors: Errors) -> None:
    order = await api.create_order()
    before = await order_view(api, order["id"])
    rename = {"op": "set_recipient", "name": "Trần Thị Mai", "phones": order["recipient"]["phones"]}
    with commit_fails(api.app.state.runtime.engine) as fault, marked(api.client):
        answer = await api.amend(order, rename)
    assert_not_saved(answer, errors, fault)
    assert await order_view(api, order["id"]) == before

    again = await api.amend(order, rename)  # the retry the 503 asks for
    assert again.status_code == 200, again.text
    assert (again.headers["etag"], again.json()["recipient"]["name"]) == ('"2"', "Trần Thị Mai")


async def test_a_new_order_whose_commit_fails_is_not_created(api: Api, errors: Errors) -> None:
    listed = await api.request("GET", "/api/orders")
    with commit_fails(api.app.state.runtime.engine) as fault, marked(api.client):
        answer = await api.request("POST", "/api/orders", json=order_payload())
    assert_not_saved(answer, errors, fault)
    assert (await api.request("GET", "/api/orders")).json() == listed.json()


async def test_a_link_amendment_whose_commit_fails_is_503_and_leaves_the_order(api: Api, errors: Errors) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    before = await order_view(api, order["id"])
    change = {"operations": [{"op": "set_recipient", "name": "Lê Thu", "phones": order["recipient"]["phones"]}]}
    with commit_fails(api.app.state.runtime.engine) as fault, marked(api.client):
        answer = await public(api, token, "/amendments", "POST", json=change, headers={"If-Match": '"1"'})
    assert_not_saved(answer, errors, fault)
    assert answer.headers["cache-control"] == "no-store"  # the link's headers stay on its error answers
    assert await order_view(api, order["id"]) == before

    done = await public(api, token, "/amendments", "POST", json=change, headers={"If-Match": '"1"'})
    assert done.status_code == 200 and done.headers["etag"] == '"2"', done.text


async def test_a_link_page_cancel_whose_commit_fails_is_503_and_leaves_the_order(api: Api, errors: Errors) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    shown = await page(api, token)
    form = {"_csrf_token": csrf_field(shown.text), "version": "1", "really": "yes"}
    before = await order_view(api, order["id"])
    with commit_fails(api.app.state.runtime.engine) as fault, marked(api.client):
        answer = await page(api, token, "/cancel", "POST", data=form)
    assert_not_saved(answer, errors, fault)
    assert await order_view(api, order["id"]) == before


async def test_a_dashboard_form_whose_commit_fails_is_503_and_leaves_the_order(
    api: Api, settings: Settings, errors: Errors
) -> None:
    order = await api.create_order()
    staff = await signed_in(settings, api.client, "lan", "staff")
    await staff.get(f"/dashboard/orders/{order['id']}/confirm")
    before = await order_view(api, order["id"])
    with commit_fails(api.app.state.runtime.engine) as fault, marked(api.client):
        answer = await staff.post(f"/dashboard/orders/{order['id']}/confirm", {"version": "1"})
    assert_not_saved(answer, errors, fault)
    assert await order_view(api, order["id"]) == before

    await staff.get(f"/dashboard/orders/{order['id']}/confirm")
    done = await staff.post(f"/dashboard/orders/{order['id']}/confirm", {"version": "1"})
    assert done.status_code == 303, done.text  # a form's success is a redirect, and it is committed
    assert (await order_view(api, order["id"]))[0]["status"] == "confirmed"


async def test_a_courier_webhook_whose_commit_fails_is_503_and_applied_when_resent(
    settings: Settings, keys: dict[str, str], errors: Errors
) -> None:
    async with fake_couriers(settings, keys) as world:
        api = world.api
        order = await api.create_order(courier="ghn")
        shipped = await Shipping(api).ship(order)
        world.ghn.set_status(shipped["shipment"]["tracking_code"], "picked")
        *earlier, payload = world.ghn.pending_webhooks
        world.ghn.pending_webhooks.clear()
        for delivered in earlier:
            assert (await api.client.post(GHN_HOOK, json=delivered)).status_code == 200
        before = await order_view(api, order["id"])
        with commit_fails(api.app.state.runtime.engine) as fault, marked(api.client):
            answer = await api.client.post(GHN_HOOK, json=payload)
        assert_not_saved(answer, errors, fault)
        assert await order_view(api, order["id"]) == before

        resent = await api.client.post(GHN_HOOK, json=payload)  # GHN resends what was not answered 200
        assert resent.status_code == 200 and resent.json() == {"applied": 1}, resent.text
        after, events = await order_view(api, order["id"])
        assert after["shipment"]["status"] == "picked" and events[-1]["type"] == "courier_picked"


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings, poolclass=NullPool)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def test_a_relay_handler_whose_commit_fails_leaves_its_message_to_retry(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db() as session, session.begin():
        message = OutboxMessage(topic="test.write", key="k1", payload={})
        session.add(message)
    runs: list[str] = []
    handling = False

    async def writes(handled: OutboxMessage) -> str:
        # Work that commits in its own transaction, as the courier sync and the sender do.
        nonlocal handling
        handling = True
        try:
            async with db() as session, session.begin():
                session.add(OutboxMessage(topic="side.effect", key=handled.key, payload={}, available_at=LATER))
        finally:
            handling = False
        runs.append(handled.key)
        return "done"

    fault = CommitFault(db.kw["bind"], lambda: handling, times=1)  # the handler's commit, not the relay's
    try:
        # No backoff: the pass claims the message again at once, and the second run succeeds.
        assert await core.drain(db, {"test.": writes}, backoff_s=0.0) == 2
    finally:
        fault.remove()
    row = await _row(db, message)
    assert fault.failed == 1 and runs == ["k1"]
    assert (row.processed_at is not None, row.attempts) == (True, 2) and bool(row.last_error)
    assert await _side_effects(db) == 1  # the failed run's write was not kept


async def test_a_relay_pass_whose_settling_commit_fails_does_not_mark_its_messages_done(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db() as session, session.begin():
        message = OutboxMessage(topic="test.read", key="k2", payload={})
        session.add(message)
    runs: list[str] = []

    async def reads(handled: OutboxMessage) -> str:
        runs.append(handled.key)
        return "done"

    lease = datetime.timedelta(seconds=0.3)
    # The claim (it writes the lease) commits first, the settling second: fail the second.
    commits = iter([False, True])
    fault = CommitFault(db.kw["bind"], lambda: next(commits, False), times=1)
    try:
        with pytest.raises(DBAPIError):  # the driver's lost connection, as SQLAlchemy wraps it
            await core.drain(db, {"test.": reads}, backoff_s=0.0, lease=lease)
    finally:
        fault.remove()
    assert fault.failed == 1 and runs == ["k2"]
    assert (await _row(db, message)).processed_at is None

    async def due_again() -> int:
        return await core.drain(db, {"test.": reads}, backoff_s=0.0, lease=lease)

    await eventually(due_again, within_s=10)  # after the lease, the message runs again and is settled
    assert (await _row(db, message)).processed_at is not None and runs == ["k2", "k2"]


async def _row(db: async_sessionmaker[AsyncSession], message: OutboxMessage) -> OutboxMessage:
    async with db() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message.id))
        assert row is not None
        return row


async def _side_effects(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return len(list(await session.scalars(select(OutboxMessage.id).where(OutboxMessage.topic == "side.effect"))))
