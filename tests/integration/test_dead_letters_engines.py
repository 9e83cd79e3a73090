"""Dead letters on every engine, the Celery worker's included: a message nothing can handle (a permanent
failure) is dead-lettered at once, not retried, and listed in /dashboard/queues."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from tests.integration.api import Api, eventually
from tests.integration.dashboard import signed_in

pytestmark = pytest.mark.anyio


async def test_a_message_no_handler_takes_is_dead_lettered_on_every_engine(
    api: Api, client: httpx.AsyncClient, settings: Settings
) -> None:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            message = OutboxMessage(topic="retired.topic", key="old-1", payload={})
            session.add(message)
        await api.create_order()  # a commit that wakes the relay (or nudges a worker)

        async def dead() -> OutboxMessage | None:
            async with AsyncSession(engine) as session:
                found = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message.id))
            return found if found is not None and found.dead_at is not None else None

        found = await eventually(dead, within_s=30)
    finally:
        await engine.dispose()
    assert found.attempts == 1 and found.last_error == "no handler for topic retired.topic"
    staff = await signed_in(settings, client, "lan", "staff")
    queues = await staff.get("/dashboard/queues")
    assert (
        'title="retired.topic"' in queues.text and f"/dashboard/queues/dead-letters/{message.id}/retry" in queues.text
    )
