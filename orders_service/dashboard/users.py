"""Staff users: argon2id password hashes, sign-in with a lockout after repeated failures."""

from __future__ import annotations

import datetime
import enum
import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.engine import begin_write
from orders_service.db.models import StaffUser
from orders_service.domain.errors import InvalidField

MAX_FAILURES = 5
LOCKOUT = datetime.timedelta(minutes=15)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the username is unknown, so a wrong name costs as long as a wrong password.
    Made on first use, not on import: one argon2 hash is a noticeable part of the server's start."""
    return _HASHER.hash("not a password anyone has")


class Role(enum.StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


class LoginRefused(Exception):
    """Wrong username or password, or locked out; `locked_until` says until when, if locked."""

    def __init__(self, locked_until: datetime.datetime | None = None) -> None:
        super().__init__("locked" if locked_until else "wrong username or password")
        self.locked_until = locked_until


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InvalidField("username", "2-64 characters: lower-case letters, digits, dot, dash or underscore")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or len(password) > 200:
        raise InvalidField("password", f"use {MIN_PASSWORD} to 200 characters")
    return password


async def create_user(session: AsyncSession, username: str, role: Role, password: str) -> StaffUser:
    name = check_username(username)
    await begin_write(session)  # it reads, then writes: on SQLite the write lock is taken first
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
        raise InvalidField("username", f"{name} already exists")
    user = StaffUser(username=name, role=str(role), password_hash=_HASHER.hash(check_password(password)))
    session.add(user)
    await session.flush()
    return user


def is_locked(user: StaffUser, now: datetime.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


async def find_user(session: AsyncSession, username: str) -> StaffUser | None:
    return await session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))


def password_matches(password_hash: str | None, password: str) -> bool:
    """The slow part of a sign-in (argon2), done outside any transaction: it must not hold the writer's lock."""
    if password_hash is None:
        _verify(_dummy_hash(), password)  # a wrong name costs as long as a wrong password
        return False
    return _verify(password_hash, password)


async def record_attempt(
    session: AsyncSession, user: StaffUser, password: str, matched: bool, now: datetime.datetime
) -> None:
    """Count the attempt on the (freshly read, locked) user: five failures in a row lock it for 15 minutes.

    Raises LoginRefused when locked or wrong; the caller commits either way, so a failure is remembered.
    """
    if is_locked(user, now):
        raise LoginRefused(user.locked_until)
    if not matched:
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILURES:
            user.failed_attempts, user.locked_until = 0, now + LOCKOUT
        await session.flush()
        raise LoginRefused(user.locked_until if is_locked(user, now) else None)
    user.failed_attempts, user.locked_until = 0, None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    await session.flush()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
