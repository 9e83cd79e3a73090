"""The relay's watchdog: a pass that stops making progress while work is due is restarted, says so in the log
and in /metrics, and the messages behind the one that wedged it flow again (issue 16, item 1)."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from orders_service.relay import core
from orders_service.relay.embedded import EmbeddedRelay
from tests.integration.api import eventually
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def add(db: async_sessionmaker[AsyncSession], topic: str, key: str) -> OutboxMessage:
    async with db() as session, session.begin():
        message = OutboxMessage(topic=topic, key=key, payload={})
        session.add(message)
    return message


async def row(db: async_sessionmaker[AsyncSession], message: OutboxMessage) -> OutboxMessage:
    async with db() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message.id))
        assert found is not None
        return found


class Stubborn:
    """A handler that never ends and shrugs off its cancellation, as a call stuck where cancelling cannot
    reach: its deadline cannot end it, only abandoning it can."""

    def __init__(self) -> None:
        self.calls, self.started, self.released = 0, asyncio.Event(), asyncio.Event()

    async def __call__(self, message: OutboxMessage) -> str:
        self.calls += 1
        self.started.set()
        while not self.released.is_set():
            try:
                await self.released.wait()
            except asyncio.CancelledError:
                continue
        return "done"


class Quick:
    def __init__(self) -> None:
        self.keys: list[str] = []

    async def __call__(self, message: OutboxMessage) -> str:
        self.keys.append(message.key)
        return "done"


def restarts() -> float:
    return REGISTRY.get_sample_value("orders_relay_restarts_total") or 0.0


async def test_a_wedged_relay_is_restarted_and_the_rest_flows(
    db: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    stubborn, quick = Stubborn(), Quick()
    relay = EmbeddedRelay(
        db,
        {"test.hang": stubborn, "test.quick": quick},
        backoff_s=0.05,
        lease_s=3.0,
        renew_s=1.0,
        deadline_s=0.2,
        watchdog_s=1.0,
        concurrency=1,  # the stubborn handler holds the only slot: nothing else can run until the restart
        max_attempts=2,
    )
    before = restarts()
    hung = await add(db, "test.hang", "poison")
    await relay.start()
    try:
        await stubborn.started.wait()
        for key in ("a", "b", "c"):
            await add(db, "test.quick", key)
        await eventually(lambda: _true(sorted(quick.keys) == ["a", "b", "c"]), within_s=30)
        assert relay.restarts >= 1 and restarts() >= before + 1
        assert any(r.levelno >= logging.ERROR and "no progress" in r.getMessage() for r in caplog.records)

        async def dead() -> OutboxMessage | None:
            found = await row(db, hung)
            return found if found.dead_at is not None else None

        # Each restart counts as a failed attempt of the message in hand: a poison message ends dead-lettered.
        poison = await eventually(dead, within_s=30)
        assert poison.attempts == 2 and "restarted" in (poison.last_error or "")
        assert stubborn.calls == 2
    finally:
        stubborn.released.set()
        await relay.stop()


async def test_a_celery_pass_still_running_at_its_limit_is_cut_off_and_gives_its_messages_back(
    db: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    stubborn, quick = Stubborn(), Quick()
    handlers = {"test.hang": stubborn, "test.quick": quick}
    hung = await add(db, "test.hang", "poison")
    behind = await add(db, "test.quick", "a")
    before = restarts()
    pump = core.Pump(db, handlers, backoff_s=0.05, concurrency=1, lease=datetime.timedelta(seconds=3), deadline_s=0.2)
    await core.bounded_pass(pump, budget_s=0.1, limit_s=1.0)  # what a Celery dispatch runs
    assert restarts() == before + 1
    assert any(r.levelno >= logging.ERROR and "cut off" in r.getMessage() for r in caplog.records)
    given_back = await row(db, hung)
    assert given_back.attempts == 1 and given_back.locked_until is None and given_back.dead_at is None
    assert "cut off" in (given_back.last_error or "")
    waited = await row(db, behind)  # claimed, never started: free again at once, no attempt counted
    assert (waited.locked_until, waited.attempts, waited.processed_at) == (None, 0, None)
    stubborn.released.set()
    await eventually(lambda: _drained(db, handlers))
    assert quick.keys == ["a"] and (await row(db, hung)).processed_at is not None


async def _drained(db: async_sessionmaker[AsyncSession], handlers: dict[str, core.Handler]) -> bool:
    await core.drain(db, handlers, backoff_s=0.05)
    async with db() as session:
        return not list(await session.scalars(select(OutboxMessage.id).where(OutboxMessage.processed_at.is_(None))))


async def _true(value: bool) -> bool:
    return value
