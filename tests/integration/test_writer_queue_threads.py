"""SQLite: the writers of one process take turns in one queue per database file, whatever thread and event loop
they run on. The embedded relay has its own thread, loop and engine (relay/threaded.py); its writes and the API's
must queue together, not race at SQLite's lock, where a writer that keeps losing fails with "database is
locked" once the busy timeout runs out (here 1 ms, so a race fails at once)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import begin_write, create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from tests.integration.conftest import engine_settings

WRITES = 15
THREADS = 3


@pytest.fixture(params=["sqlite"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for made in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(made, sqlite_busy_timeout_ms=1)


def _writer(settings: Settings, name: str, failures: list[BaseException]) -> None:
    async def write() -> None:
        engine = create_engine(settings, poolclass=NullPool)  # an engine of this thread's own loop
        try:
            for n in range(WRITES):
                async with AsyncSession(engine) as session, session.begin():
                    await begin_write(session)
                    session.add(OutboxMessage(topic="test.turns", key=f"{name}-{n}", payload={}))
                    await session.flush()
                    await asyncio.sleep(0.005)  # the write lock held a moment: the others must wait their turn
        finally:
            await engine.dispose()

    try:
        asyncio.run(write())
    except BaseException as error:
        failures.append(error)


def test_writers_on_other_threads_and_loops_take_turns(settings: Settings) -> None:
    failures: list[BaseException] = []
    threads = [threading.Thread(target=_writer, args=(settings, f"t{i}", failures)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    async def count() -> int:
        engine = create_engine(settings, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session:
                return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(count()) == WRITES * THREADS
