"""PostgreSQL: asyncpg DSNs and a fresh database per run, created and dropped on the `postgres` database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str, database: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://...) as a plain libpq/asyncpg DSN for `database`."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def database_url(url: str, database: str) -> str:
    """The server's SQLAlchemy URL (postgresql+asyncpg) for `database`, with the password."""
    return make_url(url).set(drivername="postgresql+asyncpg", database=database).render_as_string(hide_password=False)


def shown_url(url: str, database: str) -> str:
    """The same URL with the password hidden, for the report."""
    return make_url(url).set(drivername="postgresql+asyncpg", database=database).render_as_string(hide_password=True)


@contextlib.asynccontextmanager
async def fresh_database(url: str, name: str) -> AsyncIterator[str]:
    """Create database `name` on the server at `url`; yield the server's version; always drop it (FORCE)."""
    admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
    try:
        server_version = await admin.fetchval("SHOW server_version")
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server_version
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def check_connection(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
    await conn.close()
