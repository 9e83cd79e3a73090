"""The relay's side of the outbox table: claim due messages, keep the claim, record each outcome.

An outcome is done, due again after a backoff, or dead: a message that failed for good (a permanent error), or
`max_attempts` times, is dead-lettered. It stays in the table with its error, out of the relay's reach, until
staff put it back from the dashboard (relay/dead_letters.py).
"""

from __future__ import annotations

import datetime
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from sqlalchemy import BindParameter, Select, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from orders_service.db.engine import begin_write
from orders_service.db.models import OutboxMessage
from orders_service.infra import clock
from orders_service.ops import metrics

LEASE = datetime.timedelta(seconds=30)
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 600.0
MAX_ATTEMPTS = 15  # with the backoff above, about an hour of failures before a message is dead-lettered

# The statements of every claim and settle, built once with their values as parameters: SQLAlchemy keeps a
# statement's cache key on the statement object, and one built per call walks its structure again each time.
# The UPDATEs are of the table: the ORM's bulk UPDATE annotates its statement anew on every execution.
_OUTBOX = cast(Table, OutboxMessage.__table__)
_IDS: BindParameter[Any] = bindparam("ids_", expanding=True)
_LOCK = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(_IDS))
    .values(locked_until=bindparam("until_", type_=_OUTBOX.c.locked_until.type))
)
_DONE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(_IDS))
    .values(
        processed_at=bindparam("now_", type_=_OUTBOX.c.processed_at.type),
        locked_until=None,
        attempts=_OUTBOX.c.attempts + 1,
    )
)


def _now() -> datetime.datetime:
    return clock.now()  # the one clock: a deferred send falls due by the time of day (tests pin it)


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
    return await settle_and_claim(db, [], BACKOFF_BASE_S, MAX_ATTEMPTS, limit, lease)


async def settle(
    db: async_sessionmaker[AsyncSession],
    outcomes: Sequence[Outcome],
    backoff_s: float,
    max_attempts: int = MAX_ATTEMPTS,
) -> None:
    """Record outcomes in one transaction: done, due again after a backoff, or dead-lettered."""
    await settle_and_claim(db, outcomes, backoff_s, max_attempts, 0)


async def settle_and_claim(
    db: async_sessionmaker[AsyncSession],
    outcomes: Sequence[Outcome],
    backoff_s: float,
    max_attempts: int,
    limit: int,
    lease: datetime.timedelta = LEASE,
) -> list[OutboxMessage]:
    """Record the outcomes of the batch just finished and lease up to `limit` due messages, in one transaction.

    A pump that settles and then claims would commit twice (two turns of SQLite's writer, two fsyncs) where one
    does. The claim comes after the outcomes in the same transaction: a message just settled is done, or due
    after its backoff, so it is never claimed back at once.
    """
    if not outcomes and limit <= 0:
        return []
    now = _now()
    dead: list[str] = []
    messages: list[OutboxMessage] = []
    async with db() as session, session.begin():
        await begin_write(session)
        if outcomes:
            dead = await _record(session, outcomes, now, backoff_s, max_attempts)
        if limit > 0:
            messages = await _lease(session, limit, lease, now)
        session.expunge_all()
    for topic in dead:  # counted once committed
        metrics.dead_lettered(topic)
    return messages


async def _lease(
    session: AsyncSession, limit: int, lease: datetime.timedelta, now: datetime.datetime
) -> list[OutboxMessage]:
    messages = list(await session.scalars(_due(limit), {"now_": now}))
    if messages:
        until = now + lease
        await session.execute(_LOCK, {"ids_": [m.id for m in messages], "until_": until})
        for message in messages:  # as the ORM's UPDATE left them
            set_committed_value(message, "locked_until", until)
    return messages


@functools.lru_cache(maxsize=16)
def _due(limit: int) -> Select[tuple[OutboxMessage]]:
    """Up to `limit` due messages, oldest first (a pump asks for a few sizes only: one statement each)."""
    now = bindparam("now_", type_=_OUTBOX.c.available_at.type)
    return (
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


async def _record(
    session: AsyncSession, outcomes: Sequence[Outcome], now: datetime.datetime, backoff_s: float, max_attempts: int
) -> list[str]:
    """Write outcomes: done, due again after a backoff, or dead-lettered; returns the dead letters' topics."""
    dead: list[str] = []
    done = [o.message.id for o in outcomes if not o.retry and o.error is None]
    if done:
        await session.execute(_DONE, {"ids_": done, "now_": now})
    for outcome in (o for o in outcomes if o.retry or o.error is not None):
        attempts = outcome.message.attempts + 1
        values: dict[str, Any] = {
            "locked_until": None,
            "attempts": attempts,
            "last_error": (outcome.error or "")[:2000],
        }
        if outcome.retry and attempts < max_attempts:
            values["available_at"] = now + datetime.timedelta(seconds=backoff(attempts, backoff_s))
        else:  # failed for good, or too often: kept for staff, out of the relay's reach
            values["processed_at"] = values["dead_at"] = now
            dead.append(outcome.message.topic)
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == outcome.message.id).values(**values))
    return dead


async def renew(db: async_sessionmaker[AsyncSession], ids: Sequence[UUID], lease: datetime.timedelta) -> None:
    """Extend the claim on messages still being handled (not those settled meanwhile)."""
    if not ids:
        return
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


async def release(db: async_sessionmaker[AsyncSession], ids: Sequence[UUID]) -> None:
    """Give up the claim on messages not started: due again at once, no attempt counted."""
    if not ids:
        return
    async with db() as session, session.begin():
        await begin_write(session)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.processed_at.is_(None))
            .values(locked_until=None)
        )
