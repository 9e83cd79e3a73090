"""Create, find and revoke API keys; only a SHA-256 of each key is stored."""

from __future__ import annotations

import datetime
import enum
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.auth.errors import LastAdminKey
from orders_service.db.engine import begin_write
from orders_service.db.models import ApiKey
from orders_service.domain.errors import NotFound

log = logging.getLogger(__name__)
KEY_PREFIX = "osk_"


class Role(enum.StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, name: str, role: Role) -> tuple[ApiKey, str]:
    """Return the stored row and the key itself, which is shown once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=str(role), key_hash=hash_key(key), prefix=key[: len(KEY_PREFIX) + 4])
    session.add(row)
    await session.flush()
    return row, key


async def find_active(session: AsyncSession, key: str) -> ApiKey | None:
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    return row if row is not None and row.revoked_at is None else None


def key_check(db: async_sessionmaker[AsyncSession]) -> Callable[[str], Awaitable[bool]]:
    """Whether a key is an active staff or admin API key: given to the sandbox courier, which cannot read keys."""

    async def is_active(key: str) -> bool:
        try:
            async with db() as session:
                return await find_active(session, key) is not None
        except SQLAlchemyError as error:
            log.warning("API key not checked, the database does not answer: %s", type(error).__name__)
            return False

    return is_active


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


async def revoke_key(session: AsyncSession, key_id: UUID) -> ApiKey:
    """Revoke a key; the last active admin key is kept (409), or nobody could create or revoke keys again.

    The active admin keys are locked first (SQLite: the writer lock), so two admins revoking the last two
    at once take turns, and the second one finds that hers is the last.
    """
    await begin_write(session)
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("API key", key_id)
    if row.revoked_at is None:
        if row.role == Role.ADMIN:
            admins = select(ApiKey.id).where(ApiKey.role == str(Role.ADMIN), ApiKey.revoked_at.is_(None))
            if set(await session.scalars(admins.with_for_update())) == {row.id}:
                raise LastAdminKey(f"key {row.prefix}... is the last active admin key: create another admin key first")
        row.revoked_at = datetime.datetime.now(datetime.UTC)
        await session.flush()
    return row
