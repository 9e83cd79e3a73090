"""One relay pass, the same for the in-process engine and for Celery workers."""

from __future__ import annotations

import datetime
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from couriers.base import CourierError
from orders_service.db.engine import begin_write
from orders_service.db.models import OutboxMessage

log = logging.getLogger(__name__)
Handler = Callable[[OutboxMessage], Awaitable[str]]
LEASE = datetime.timedelta(seconds=120)
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 600.0


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter (AWS architecture blog; Celery's retry_jitter does the same)."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


async def claim(db: async_sessionmaker[AsyncSession], limit: int) -> list[UUID]:
    """Lease up to `limit` due messages; on PostgreSQL rows locked by another relay are skipped."""
    now = _now()
    async with db() as session, session.begin():
        await begin_write(session)
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(await session.scalars(due))
        if ids:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(locked_until=now + LEASE)
            )
    return ids


async def run_one(db: async_sessionmaker[AsyncSession], message_id: UUID, handlers: dict[str, Handler]) -> str:
    """Run the handler of one claimed message and record the outcome: done, retry later, or failed."""
    async with db() as session:
        message = await session.get(OutboxMessage, message_id)
        if message is None or message.processed_at is not None:
            return "gone"
        session.expunge(message)
    handler = _handler_for(message.topic, handlers)
    try:
        outcome = await handler(message) if handler else "no handler"
    except CourierError as error:
        if error.transient:
            await _retry(db, message, error)
            return "retry"
        await _finish(db, message, f"failed: {error.message}")
        return "failed"
    except Exception as error:  # a bug or an outage: retry rather than lose the message
        log.exception("relay handler for %s failed", message.topic)
        await _retry(db, message, error)
        return "retry"
    await _finish(db, message, None)
    return outcome


def _handler_for(topic: str, handlers: dict[str, Handler]) -> Handler | None:
    if topic in handlers:
        return handlers[topic]
    prefix = topic.split(".", 1)[0] + "."
    return handlers.get(prefix)


async def _retry(db: async_sessionmaker[AsyncSession], message: OutboxMessage, error: BaseException) -> None:
    delay = backoff(message.attempts + 1)
    async with db() as session, session.begin():
        await begin_write(session)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                attempts=OutboxMessage.attempts + 1,
                locked_until=None,
                last_error=str(error)[:2000],
                available_at=_now() + datetime.timedelta(seconds=delay),
            )
        )


async def _finish(db: async_sessionmaker[AsyncSession], message: OutboxMessage, error: str | None) -> None:
    async with db() as session, session.begin():
        await begin_write(session)
        values: dict[str, Any] = {"processed_at": _now(), "locked_until": None, "attempts": message.attempts + 1}
        if error is not None:
            values["last_error"] = error[:2000]
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))


async def drain(db: async_sessionmaker[AsyncSession], handlers: dict[str, Handler], batch: int = 20) -> int:
    """Run every message due now; returns how many were handled."""
    handled = 0
    while ids := await claim(db, batch):
        for message_id in ids:
            await run_one(db, message_id, handlers)
            handled += 1
    return handled
