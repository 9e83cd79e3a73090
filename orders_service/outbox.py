"""The transactional outbox: side effects written in the same transaction as the change they follow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import OutboxMessage


def enqueue(session: AsyncSession, topic: str, key: str, payload: dict[str, Any]) -> OutboxMessage:
    """Add a message for the relay; it is committed, or rolled back, with the caller's transaction."""
    message = OutboxMessage(topic=topic, key=key, payload=payload)
    session.add(message)
    return message
