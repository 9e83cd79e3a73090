"""The relay's writes to the outbox: a pass records what it finished in the transaction that claims the next
messages, so a pass over what is due commits twice (its claim, then its outcomes with the look for more), where
settling and claiming apart made it three (on SQLite each commit is a turn of the one writer and an fsync)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from orders_service.relay import core
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


class Commits:
    """Counts the commits an engine makes while it is installed."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.engine, self.count = db.kw["bind"].sync_engine, 0

    def _commit(self, _conn: Any) -> None:
        self.count += 1

    def __enter__(self) -> Commits:
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "commit", self._commit)


async def _messages(db: async_sessionmaker[AsyncSession], keys: list[str]) -> None:
    async with db() as session, session.begin():
        session.add_all([OutboxMessage(topic="test.quick", key=key, payload={}) for key in keys])


async def _done(message: OutboxMessage) -> str:
    return "done"


@pytest.mark.parametrize("messages", [1, 5])
async def test_a_pass_settles_in_the_transaction_that_looks_for_more(
    db: async_sessionmaker[AsyncSession], messages: int
) -> None:
    await _messages(db, [f"k{i}" for i in range(messages)])
    with Commits(db) as commits:
        assert await core.drain(db, {"test.": _done}, lease=datetime.timedelta(seconds=30)) == messages
    # The claim, then the outcomes and the (empty) claim that ends the pass.
    assert commits.count == 2
    async with db() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert len(rows) == messages
    assert all(r.processed_at is not None and r.locked_until is None and r.attempts == 1 for r in rows)


async def test_a_message_settled_for_a_retry_is_not_claimed_back_by_the_same_transaction(
    db: async_sessionmaker[AsyncSession],
) -> None:
    await _messages(db, ["k1"])
    calls: list[str] = []

    async def flaky(message: OutboxMessage) -> str:
        calls.append(message.key)
        return "retry"

    # A backoff of 60 s: the message settled as a retry is due later, so the claim that follows finds nothing.
    assert await core.drain(db, {"test.": flaky}, backoff_s=60.0) == 1
    assert calls == ["k1"]
    async with db() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.processed_at is None and row.locked_until is None and row.attempts == 1
    assert row.available_at > datetime.datetime.now(datetime.UTC).replace(tzinfo=row.available_at.tzinfo)
