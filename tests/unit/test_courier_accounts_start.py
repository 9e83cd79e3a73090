"""At start, the API waits for a database that is still coming up instead of exiting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orders_service.settings import Settings
from orders_service.shipping.registry import CourierRegistry
from orders_service.shop_settings.services import load_courier_accounts

pytestmark = pytest.mark.anyio


class Session:
    async def scalars(self, _: Any) -> list[Any]:
        return []  # nothing saved: the environment's accounts stay


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


async def test_waits_for_the_database_then_loads(tmp_path: Path) -> None:
    db, waits = flaky_db(3), []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    await load_courier_accounts(db, settings, CourierRegistry({}), sleep=sleep)
    assert db.calls["n"] == 4 and waits == [0.1, 0.2, 0.4]


async def test_gives_up_after_its_attempts(tmp_path: Path) -> None:
    async def sleep(_: float) -> None:
        return None

    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConnectionRefusedError):
        await load_courier_accounts(flaky_db(10), settings, CourierRegistry({}), attempts=3, sleep=sleep)
