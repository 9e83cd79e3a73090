"""One relay pass, the same for the in-process engine and for Celery workers.

A pass claims due messages with a short lease, renews it while their handlers run, and records each outcome.
A relay that dies mid-pass (a worker killed, a server restarted) stops renewing: its messages are due again
within one lease, and handlers are idempotent, so a message cut short is run again, never lost.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from couriers.base import CourierError
from notifications.providers import ProviderError
from orders_service import clock
from orders_service.db.engine import begin_write
from orders_service.db.leases import kept_alive
from orders_service.db.models import OutboxMessage
from orders_service.ops import context

log = logging.getLogger(__name__)
Handler = Callable[[OutboxMessage], Awaitable[str]]
LEASE = datetime.timedelta(seconds=30)
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 600.0


def _now() -> datetime.datetime:
    return clock.now()


def backoff(attempts: int, base_s: float = BACKOFF_BASE_S, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(attempts-1), capped at 10 minutes."""
    ceiling = min(BACKOFF_MAX_S, base_s * 2 ** max(0, attempts - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass
class Outcome:
    message: OutboxMessage
    result: str  # what the handler said, or retry / failed
    error: str | None = None

    @property
    def retry(self) -> bool:
        return self.result == "retry"


async def claim(
    db: async_sessionmaker[AsyncSession], limit: int, lease: datetime.timedelta = LEASE
) -> list[OutboxMessage]:
    """Lease up to `limit` due messages; on PostgreSQL rows locked by another relay are skipped."""
    now = _now()
    async with db() as session, session.begin():
        await begin_write(session)
        due = (
            select(OutboxMessage)
            .where(
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        messages = list(await session.scalars(due))
        if messages:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([m.id for m in messages]))
                .values(locked_until=now + lease)
            )
        session.expunge_all()
    return messages


def _handler_for(topic: str, handlers: dict[str, Handler]) -> Handler | None:
    return handlers.get(topic) or handlers.get(topic.split(".", 1)[0] + ".")


async def handle(message: OutboxMessage, handlers: dict[str, Handler]) -> Outcome:
    # Lines logged while handling an order's message name the order (each gathered handler runs in its own task).
    context.order_id.set(message.key if message.topic.startswith("order.") else None)
    handler = _handler_for(message.topic, handlers)
    if handler is None:
        return Outcome(message, "failed", f"no handler for topic {message.topic}")
    try:
        return Outcome(message, await handler(message))
    except (CourierError, ProviderError) as error:
        return Outcome(message, "retry" if error.transient else "failed", error.message)
    except Exception as error:  # a bug or an outage: retry rather than lose the message
        log.exception("relay handler for %s failed", message.topic)
        return Outcome(message, "retry", f"{type(error).__name__}: {error}")


async def settle(db: async_sessionmaker[AsyncSession], outcomes: Sequence[Outcome], backoff_s: float) -> None:
    """Record a batch of outcomes in one transaction: done, failed for good, or due again after a backoff."""
    if not outcomes:
        return
    now = _now()
    async with db() as session, session.begin():
        await begin_write(session)
        done = [o.message.id for o in outcomes if not o.retry and o.error is None]
        if done:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(done))
                .values(processed_at=now, locked_until=None, attempts=OutboxMessage.attempts + 1)
            )
        for outcome in (o for o in outcomes if o.retry or o.error is not None):
            values: dict[str, Any] = {
                "locked_until": None,
                "attempts": outcome.message.attempts + 1,
                "last_error": (outcome.error or "")[:2000],
            }
            if outcome.retry:
                delay = backoff(outcome.message.attempts + 1, backoff_s)
                values["available_at"] = now + datetime.timedelta(seconds=delay)
            else:
                values["processed_at"] = now
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == outcome.message.id).values(**values))


async def renew(db: async_sessionmaker[AsyncSession], ids: Sequence[UUID], lease: datetime.timedelta) -> None:
    """Extend the claim on messages still being handled (not those settled meanwhile)."""
    async with db() as session, session.begin():
        await begin_write(session)
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.locked_until.is_not(None),
            )
            .values(locked_until=_now() + lease)
        )


async def drain(
    db: async_sessionmaker[AsyncSession],
    handlers: dict[str, Handler],
    batch: int = 50,
    backoff_s: float = BACKOFF_BASE_S,
    concurrency: int = 8,
    lease: datetime.timedelta = LEASE,
    budget_s: float | None = None,
) -> int:
    """Run every message due now (or as many as fit in `budget_s`); returns how many were handled.

    Messages of one batch about the same thing (topic family and key) run their handler once: handlers read
    the current state, so the first run covers the others (ten quick edits, one courier call). Different
    orders run side by side, up to `concurrency` at once, so one slow courier call does not hold up the rest.
    No batch is claimed after `budget_s` has passed (a Celery task must end within its time limit).
    """
    handled = 0
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def run(message: OutboxMessage) -> Outcome:
        async with gate:
            return await handle(message, handlers)

    while messages := await claim(db, batch, lease):
        families: dict[tuple[str, str], list[OutboxMessage]] = {}
        for message in messages:
            families.setdefault((message.topic.split(".", 1)[0], message.key), []).append(message)
        keep = functools.partial(renew, db, [m.id for m in messages], lease)
        async with kept_alive(keep, lease.total_seconds(), f"{len(messages)} outbox messages"):
            firsts = await asyncio.gather(*(run(group[0]) for group in families.values()))
        outcomes = [
            Outcome(message, first.result, first.error) if message is not group[0] else first
            for first, group in zip(firsts, families.values(), strict=True)
            for message in group
        ]
        await settle(db, outcomes, backoff_s)
        handled += len(messages)
        if budget_s is not None and time.monotonic() - started >= budget_s:
            break
    return handled
