"""The relay's claim on a message: kept while its handler runs however long, given up soon after a crash."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from orders_service.relay import core
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
LEASE = datetime.timedelta(seconds=0.6)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def _message(db: async_sessionmaker[AsyncSession], key: str = "k1") -> OutboxMessage:
    async with db() as session, session.begin():
        message = OutboxMessage(topic="test.slow", key=key, payload={})
        session.add(message)
    return message


async def _row(db: async_sessionmaker[AsyncSession], message: OutboxMessage) -> OutboxMessage:
    async with db() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message.id))
        assert row is not None
        return row


class Slow:
    """A handler that takes `seconds` and counts its calls."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.calls = seconds, 0
        self.started = asyncio.Event()

    async def __call__(self, message: OutboxMessage) -> str:
        self.calls += 1
        self.started.set()
        await asyncio.sleep(self.seconds)
        return "done"


async def test_a_handler_slower_than_the_lease_keeps_its_message(db: async_sessionmaker[AsyncSession]) -> None:
    message = await _message(db)
    slow = Slow(3 * LEASE.total_seconds())
    first = asyncio.create_task(core.drain(db, {"test.": slow}, lease=LEASE))
    await slow.started.wait()
    # Another relay looks twice while the handler is still running, each time after the first lease ran out.
    for _ in range(2):
        await asyncio.sleep(1.2 * LEASE.total_seconds())
        assert await core.drain(db, {"test.": slow}, lease=LEASE) == 0
    assert await first == 1
    assert slow.calls == 1
    row = await _row(db, message)
    assert row.processed_at is not None and row.locked_until is None and row.attempts == 1


async def test_a_relay_that_dies_mid_pass_gives_its_message_up_after_one_lease(
    db: async_sessionmaker[AsyncSession],
) -> None:
    message = await _message(db)
    stuck = Slow(3600)
    dying = asyncio.create_task(core.drain(db, {"test.": stuck}, lease=LEASE))
    await stuck.started.wait()
    dying.cancel()  # as a SIGKILL would: no outcome recorded, the claim left in place, no more renewals
    await asyncio.wait([dying])
    quick = Slow(0)
    assert await core.drain(db, {"test.": quick}, lease=LEASE) == 0  # still claimed
    await asyncio.sleep(1.2 * LEASE.total_seconds())
    assert await core.drain(db, {"test.": quick}, lease=LEASE) == 1
    assert quick.calls == 1
    assert (await _row(db, message)).processed_at is not None


async def test_a_pass_with_a_budget_stops_claiming_when_it_is_spent(db: async_sessionmaker[AsyncSession]) -> None:
    for key in ("a", "b", "c"):
        await _message(db, key)
    quick = Slow(0)
    assert await core.drain(db, {"test.": quick}, batch=1, budget_s=0) == 1  # one batch, then the budget is gone
    assert await core.drain(db, {"test.": quick}, batch=1) == 2
