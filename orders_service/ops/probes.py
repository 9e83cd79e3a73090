"""Readiness: the database answers, and the broker too when Celery runs the relay; each within a short time."""

from __future__ import annotations

import asyncio

from kombu import Connection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

TIMEOUT_S = 2.0


async def check_database(db: async_sessionmaker[AsyncSession], timeout_s: float = TIMEOUT_S) -> str | None:
    """None when the database answers, else why not."""
    try:
        async with asyncio.timeout(timeout_s), db() as session:
            await session.execute(text("SELECT 1"))
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as error:  # any driver error means not ready; the reason is for the operator
        return _reason(error)
    return None


def _connect(url: str, timeout_s: float) -> None:
    with Connection(url, connect_timeout=timeout_s, transport_options={"socket_timeout": timeout_s}) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout_s)


async def check_broker(url: str, timeout_s: float = TIMEOUT_S) -> str | None:
    """None when the Celery broker accepts a connection, else why not."""
    try:
        async with asyncio.timeout(timeout_s + 0.5):
            await asyncio.to_thread(_connect, url, timeout_s)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as error:  # kombu raises the transport's own errors
        return _reason(error)
    return None


def _reason(error: BaseException) -> str:
    found = getattr(error, "orig", None) or error
    first = str(found).splitlines()[0] if str(found) else ""
    return f"{type(found).__name__}: {first}"[:300]
