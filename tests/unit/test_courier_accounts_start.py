"""At start, the API waits for a database that is still coming up instead of exiting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orders_service.infra.settings import Settings
from orders_service.shipping.registry import CourierRegistry
from orders_service.shop_settings.accounts import CourierAccounts, load_courier_accounts

pytestmark = pytest.mark.anyio


class Session:
    async def connection(self) -> None:
        return None  # the transaction began: a real session's start reads the saved accounts


def flaky_db(failures: int) -> Any:
    calls = {"n": 0}

    @contextlib.asynccontextmanager
    async def db() -> AsyncIterator[Session]:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionRefusedError("PostgreSQL is restarting")
        yield Session()

    db.calls = calls  # type: ignore[attr-defined]
    return db


def accounts(tmp_path: Path) -> CourierAccounts:
    return CourierAccounts(Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)}), CourierRegistry({}))


async def test_waits_for_the_database_then_loads(tmp_path: Path) -> None:
    db, waits = flaky_db(3), []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    await load_courier_accounts(db, accounts(tmp_path), sleep=sleep)
    assert db.calls["n"] == 4 and waits == [0.1, 0.2, 0.4]


async def test_gives_up_after_its_attempts(tmp_path: Path) -> None:
    async def sleep(_: float) -> None:
        return None

    with pytest.raises(ConnectionRefusedError):
        await load_courier_accounts(flaky_db(10), accounts(tmp_path), attempts=3, sleep=sleep)
