"""The SQLite database holds customers' names, phones and addresses: it is created readable by its owner only
(0600), like the secrets kept beside it, and so are the -wal and -shm files SQLite makes next to it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.migrate import upgrade
from orders_service.infra.settings import Settings

pytestmark = pytest.mark.anyio


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_sqlite_files_are_created_0600(tmp_path: Path) -> None:
    before = os.umask(0o022)  # the usual umask, which gives 0644 to a file created without a mode
    try:
        settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path / "data")})
        await anyio.to_thread.run_sync(upgrade, settings)  # it runs its own event loop
        database = tmp_path / "data" / "orders.db"
        engine = create_engine(settings, poolclass=NullPool)
        try:
            async with engine.connect() as connection:  # a reader open: the -wal and -shm files exist
                assert await connection.scalar(text("SELECT count(*) FROM orders")) == 0
                made = [database, *(p for p in database.parent.glob("orders.db-*"))]
                assert {p.name for p in made} >= {"orders.db", "orders.db-wal", "orders.db-shm"}
                assert {p.name: mode(p) for p in made} == {p.name: 0o600 for p in made}
        finally:
            await engine.dispose()
    finally:
        os.umask(before)
