"""Messages that always fail are dead-lettered after ORDERS_RELAY_MAX_ATTEMPTS (issue 16, item 7): no longer
retried, shown in /dashboard/queues with their error and a retry button, counted in /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from tests.integration.api import eventually
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import signed_in
from tests.integration.metrics_text import value

pytestmark = pytest.mark.anyio
ATTEMPTS = 3


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for made in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(made, relay_max_attempts=ATTEMPTS)


class Refused:
    """A handler whose work always fails (until `mended`), as a courier or a provider that keeps erroring."""

    def __init__(self) -> None:
        self.calls, self.mended = 0, False

    async def __call__(self, message: OutboxMessage) -> str:
        self.calls += 1
        if not self.mended:
            raise RuntimeError("the provider answered 500 again")
        return "done"


async def add(settings: Settings, topic: str, key: str) -> OutboxMessage:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            message = OutboxMessage(topic=topic, key=key, payload={})
            session.add(message)
        return message
    finally:
        await engine.dispose()


async def current(settings: Settings, message: OutboxMessage) -> OutboxMessage:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            found = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message.id))
            assert found is not None
            return found
    finally:
        await engine.dispose()


async def test_a_message_that_always_fails_is_dead_lettered_shown_and_retried(
    app: Litestar, client: httpx.AsyncClient, settings: Settings
) -> None:
    refused, done = Refused(), Refused()
    done.mended = True
    app.state.runtime.handlers.update({"test.refused": refused, "test.done": done})  # the relay's own table
    staff = await signed_in(settings, client, "lan", "staff")
    counted_before = value((await client.get("/metrics")).text, "orders_outbox_dead_lettered_total", family="test")

    message = await add(settings, "test.refused", "job-1")

    async def dead() -> OutboxMessage | None:
        found = await current(settings, message)
        return found if found.dead_at is not None else None

    found = await eventually(dead, within_s=30)
    assert found.attempts == ATTEMPTS == refused.calls and "500 again" in (found.last_error or "")
    # Not retried any more: a message queued after it is handled, and the dead one is not tried again.
    later = await add(settings, "test.done", "job-2")
    await eventually(lambda: _processed(settings, later))
    assert refused.calls == ATTEMPTS

    queues = await staff.get("/dashboard/queues")
    assert queues.status_code == 200
    # Staff read what the system was doing and that it failed, in words; the topic stays on the row for engineers
    # (its title) and the exception itself in the service's log.
    assert 'title="test.refused"' in queues.text and "Việc khác" in queues.text
    assert "lỗi hệ thống (chi tiết trong nhật ký của dịch vụ)" in queues.text and "500 again" not in queues.text
    retry_path = f"/dashboard/queues/dead-letters/{message.id}/retry"
    assert retry_path in queues.text
    metrics = (await client.get("/metrics")).text
    assert value(metrics, "orders_outbox_dead_letters") == 1
    assert value(metrics, "orders_outbox_dead_lettered_total", family="test") == counted_before + 1

    refused.mended = True
    retried = await staff.post(retry_path)
    assert retried.status_code == 303
    await eventually(lambda: _processed(settings, message))
    again = await current(settings, message)
    assert again.dead_at is None and again.attempts == 1 and refused.calls == ATTEMPTS + 1
    assert value((await client.get("/metrics")).text, "orders_outbox_dead_letters") == 0
    assert 'title="test.refused"' not in (await staff.get("/dashboard/queues")).text
    assert (await staff.post(retry_path)).status_code == 409  # not dead any more


async def _processed(settings: Settings, message: OutboxMessage) -> bool:
    return (await current(settings, message)).processed_at is not None
