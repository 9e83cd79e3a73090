"""The embedded relay runs on a thread of its own (ORDERS_RELAY_THREAD=on): it handles what is due while the API's
event loop is busy, which in the API's loop it could not (there a busy loop starved it, and the courier fell
seconds behind). On SQLite its writes take turns with the API's in the one writer queue, across threads."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from orders_service.db.engine import begin_write, create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.runtime import Runtime, build_runtime
from orders_service.infra.settings import Settings
from orders_service.relay.threaded import ThreadedRelay, embedded_relay
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
MESSAGES = 20
WITHIN_S = 20.0


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings, couriers=[], providers={})
    yield runtime
    await runtime.aclose()


def _unprocessed_seen_from_another_thread(settings: Settings, until_none_within_s: float) -> int:
    """Blocks the calling thread (and so its event loop) while another thread watches the outbox: returns how
    many messages were still unprocessed when they all were, or when the time ran out."""
    left: list[int] = []

    async def watch() -> None:
        engine = create_engine(settings, poolclass=NullPool)
        try:
            deadline = time.monotonic() + until_none_within_s
            while True:
                async with AsyncSession(engine) as session:
                    count = await session.scalar(
                        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
                    )
                left[:] = [int(count or 0)]
                if not left[0] or time.monotonic() > deadline:
                    return
                await asyncio.sleep(0.05)
        finally:
            await engine.dispose()

    watcher = threading.Thread(target=lambda: asyncio.run(watch()))
    watcher.start()
    watcher.join()  # the API's loop (this test's) does nothing meanwhile
    return left[0]


async def _due(db: async_sessionmaker[AsyncSession]) -> None:
    # Changes of orders that have no shipment: the sync finds that out from the database alone.
    async with db() as session, session.begin():
        await begin_write(session)  # as the app's writers do: in turn with the relay's (on SQLite)
        session.add_all(
            [OutboxMessage(topic="order.changed", key=str(uuid.uuid4()), payload={}) for _ in range(MESSAGES)]
        )


async def test_the_relay_handles_what_is_due_while_the_api_loop_is_blocked(
    settings: Settings, runtime: Runtime
) -> None:
    relay = embedded_relay(msgspec.structs.replace(settings, relay_thread=True), runtime)
    assert isinstance(relay, ThreadedRelay)
    await relay.start()
    try:
        await _due(runtime.db)
        relay.wake()
        assert _unprocessed_seen_from_another_thread(settings, WITHIN_S) == 0
    finally:
        await relay.stop()


async def test_in_the_api_loop_a_blocked_loop_holds_the_relay(settings: Settings, tmp_path: Path) -> None:
    """What the thread is for: ORDERS_RELAY_THREAD=off, the same blocked loop, nothing handled meanwhile."""
    in_loop = msgspec.structs.replace(settings, relay_thread=False)
    runtime = build_runtime(in_loop, couriers=[], providers={})
    relay = embedded_relay(in_loop, runtime)
    await relay.start()
    try:
        await _due(runtime.db)
        relay.wake()
        assert _unprocessed_seen_from_another_thread(settings, 1.0) == MESSAGES
    finally:
        await relay.stop()
        await runtime.aclose()
