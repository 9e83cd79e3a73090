"""Dead letters: outbox messages the relay gave up on, listed for staff and put back on their word."""

from __future__ import annotations

import logging
from uuid import UUID

from advanced_alchemy.filters import LimitOffset, NotNullFilter, OrderBy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.engine import begin_write
from orders_service.db.models import OutboxMessage
from orders_service.domain.errors import InvalidTransition, NotFound
from orders_service.domain.model import Actor
from orders_service.infra import clock
from orders_service.infra.outbox import written
from orders_service.infra.pagination import Repository

log = logging.getLogger(__name__)


class OutboxRepository(Repository[OutboxMessage]):
    model_type = OutboxMessage


async def list_dead_letters(session: AsyncSession, limit: int) -> tuple[list[OutboxMessage], int]:
    """The most recently dead-lettered messages first, and how many there are in all."""
    rows, total = await OutboxRepository(session=session).get_many_and_count(
        NotNullFilter("dead_at"), OrderBy("dead_at", "desc"), LimitOffset(limit, 0)
    )
    return list(rows), total


async def retry_dead_letter(session: AsyncSession, message_id: UUID, actor: Actor) -> OutboxMessage:
    """Put a dead-lettered message back: due now, with its attempts counted from zero (its last error stays
    until the next attempt replaces it). Raises NotFound, or InvalidTransition if it is not dead (any more)."""
    await begin_write(session)
    message = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update())
    if message is None:
        raise NotFound("outbox message", message_id)
    if message.dead_at is None:
        raise InvalidTransition("only a dead-lettered message can be retried")
    message.dead_at = message.processed_at = message.locked_until = None
    message.attempts = 0
    message.available_at = clock.now()
    written(session)  # the relay looks at once, as after any new message
    await session.flush()
    log.info("%s %s put dead-lettered %s %s back in the outbox", actor.kind, actor.id, message.topic, message.key)
    return message
