"""Every way a driver says the database went away is a 503 to retry (Retry-After), never a 500."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from sqlalchemy import exc as sa

from orders_service.infra.problems import EXCEPTION_HANDLERS

LOST = [
    # Raised unwrapped while connecting (SQLAlchemy wraps only what a DBAPI connection raises).
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("terminating connection because of crash of another server process"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    ConnectionResetError("connection reset by peer"),
    # Wrapped by SQLAlchemy on an open connection.
    sa.OperationalError("SELECT 1", None, ConnectionResetError("reset")),
    sa.InterfaceError("COMMIT", None, Exception("the underlying connection is closed")),
    sa.DBAPIError("COMMIT", None, Exception("terminating connection"), connection_invalidated=True),
]


@pytest.mark.parametrize("error", LOST, ids=lambda e: type(e).__name__)
def test_a_lost_database_is_503_with_retry_after(error: Exception) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise error

    with TestClient(Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)) as client:
        answer = client.get("/boom")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["retry-after"]) > 0


def test_a_driver_error_that_is_not_a_lost_connection_stays_a_500() -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise sa.DBAPIError("SELECT", None, Exception("syntax error"), connection_invalidated=False)

    with TestClient(Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)) as client:
        assert client.get("/boom").status_code == 500
