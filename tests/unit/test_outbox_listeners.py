"""The relay's wake-up after a commit that wrote outbox rows: called while its relay lives, and never the reason an
engine, and the app around it, stays in memory.

The listeners were kept per engine in a WeakKeyDictionary whose values (the relay's wake) held the engine: an
entry that holds its own key is never dropped. Every app made in a process stayed with all it reaches; the test
workers, which make one per test, grew to 2 GB, and a garbage collection of their heap could stop a whole test
process for seconds (a courier's webhook then timed out).
"""

from __future__ import annotations

import gc
import weakref

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from orders_service.infra import outbox

pytestmark = pytest.mark.anyio


class Relay:
    """Holds its engine, as the embedded relay does through its sessionmaker."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine, self.woken = engine, 0

    def wake(self) -> None:
        self.woken += 1


async def listening() -> tuple[AsyncEngine, Relay]:
    """A relay listening on its engine, after one commit that wrote outbox rows."""
    engine = create_async_engine("sqlite+aiosqlite://")
    relay = Relay(engine)
    outbox.on_committed(engine, relay.wake)
    async with AsyncSession(engine) as session:
        await session.execute(text("SELECT 1"))
        session.info[outbox._WRITTEN] = True  # what enqueue() marks
        await session.commit()
    return engine, relay


async def test_the_relay_is_woken_after_a_commit_that_wrote_outbox_rows() -> None:
    engine, relay = await listening()
    assert relay.woken == 1
    await engine.dispose()


async def test_a_listening_relay_does_not_keep_its_engine_in_memory() -> None:
    engine, relay = await listening()
    await engine.dispose()
    gone = weakref.ref(engine.sync_engine)
    del engine, relay
    gc.collect()
    assert gone() is None
