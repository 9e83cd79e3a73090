"""Server-side sessions: a random id in an HttpOnly cookie, its SHA-256 in `staff_sessions`.

Chosen over Litestar's session middleware with a store because a row per session is what we need anyway to
sign a user out everywhere (delete the rows) and to see who is signed in, and it lives in the database the
service already has, on SQLite and PostgreSQL alike, without another store to run.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.dashboard.users import (
    LoginRefused,
    Role,
    find_user,
    is_locked,
    password_matches,
    record_attempt,
)
from orders_service.db.engine import begin_write
from orders_service.db.models import StaffSession, StaffUser
from orders_service.domain.model import Actor, ActorKind

COOKIE = "orders_session"
LIFETIME = datetime.timedelta(hours=12)  # a working day; then sign in again


@dataclass(frozen=True)
class Staff:
    """Who is signed in: what pages need to know, and the actor their changes are recorded under."""

    id: UUID
    username: str
    role: Role

    @property
    def actor(self) -> Actor:
        return Actor(kind=ActorKind.STAFF, id=self.username)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def sign_in(
    db: async_sessionmaker[AsyncSession], username: str, password: str, now: datetime.datetime
) -> tuple[Staff, str]:
    """A new session's token for the user, or LoginRefused. Its own transaction: a failure must be counted."""
    async with db() as session:
        found = await find_user(session, username)
        user_id, password_hash = (found.id, found.password_hash) if found else (None, None)
        locked = found is not None and is_locked(found, now)
        await session.rollback()  # the read ends here: argon2 runs holding no lock
        matched = False if locked else password_matches(password_hash, password)
        if user_id is None:
            raise LoginRefused()
        await begin_write(session)
        user = await session.scalar(select(StaffUser).where(StaffUser.id == user_id).with_for_update())
        assert user is not None  # users are never deleted
        try:
            await record_attempt(session, user, password, matched, now)
        except LoginRefused:
            await session.commit()
            raise
        token = secrets.token_urlsafe(32)
        session.add(StaffSession(id_hash=_hash(token), user_id=user.id, created_at=now, expires_at=now + LIFETIME))
        # Sessions that ran out are swept here, at a moment that already writes.
        await session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        await session.commit()
        return Staff(user.id, user.username, Role(user.role)), token


async def sign_out(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(token)))


async def find_staff(session: AsyncSession, token: str, now: datetime.datetime) -> Staff | None:
    if not token or len(token) > 100:
        return None
    row = (
        await session.execute(
            select(StaffUser.id, StaffUser.username, StaffUser.role)
            .join(StaffSession, StaffSession.user_id == StaffUser.id)
            .where(StaffSession.id_hash == _hash(token), StaffSession.expires_at > now)
        )
    ).first()
    return None if row is None else Staff(row.id, row.username, Role(row.role))


class SessionAuthentication(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the signed-in Staff; without a session, NotAuthorized (the pages redirect)."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = connection.cookies.get(COOKIE, "")
        sessionmaker: async_sessionmaker[Any] = connection.app.state.sessionmaker
        async with sessionmaker() as session:
            staff = await find_staff(session, token, datetime.datetime.now(datetime.UTC))
        if staff is None:
            raise NotAuthorizedException("sign in first")
        return AuthenticationResult(user=staff, auth=staff.role)


def admins_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    # scope, not connection.auth: OPTIONS skips authentication, and reading an unset auth raises (a 500)
    if connection.scope.get("auth") != Role.ADMIN:
        raise PermissionDeniedException("only an admin may do this")
