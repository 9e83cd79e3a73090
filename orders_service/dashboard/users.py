"""Staff users: argon2id password hashes, sign-in with a lockout after repeated failures."""

from __future__ import annotations

import datetime
import enum
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import StaffUser
from orders_service.domain.errors import InvalidField

MAX_FAILURES = 5
LOCKOUT = datetime.timedelta(minutes=15)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Compared against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


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
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
        raise InvalidField("username", f"{name} already exists")
    user = StaffUser(username=name, role=str(role), password_hash=_HASHER.hash(check_password(password)))
    session.add(user)
    await session.flush()
    return user


def is_locked(user: StaffUser, now: datetime.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


async def authenticate(session: AsyncSession, username: str, password: str, now: datetime.datetime) -> StaffUser:
    """The user, or LoginRefused. Failures count up; the fifth in a row locks the account for 15 minutes.

    The caller commits in both cases: a failed attempt must be remembered, so it is not raised out of the
    transaction but returned through LoginRefused after the count is written.
    """
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused()
    if is_locked(user, now):
        raise LoginRefused(user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILURES:
            user.failed_attempts, user.locked_until = 0, now + LOCKOUT
        await session.flush()
        raise LoginRefused(user.locked_until if is_locked(user, now) else None)
    user.failed_attempts, user.locked_until = 0, None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    await session.flush()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
