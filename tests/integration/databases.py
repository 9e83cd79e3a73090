"""Fresh databases for each test, on SQLite and PostgreSQL, cloned from one migrated template."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orders_service.db.migrate import upgrade
from orders_service.infra.settings import Settings

PG_URL_ENV = "ORDERS_TEST_PG_URL"


def pg_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


def sqlite_template(folder: Path) -> Path:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(folder)})
    upgrade(settings)
    return folder / "orders.db"


# Fast retries, short courier timeouts: fault tests recover in a fraction of a second.
TEST_ENV = {"ORDERS_RELAY_BACKOFF_S": "0.05", "ORDERS_SANDBOX_TIMEOUT_S": "1", "ORDERS_CAMPAIGN_BATCH": "10"}


def sqlite_clone(template: Path, folder: Path) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, folder / "orders.db")
    return Settings.from_env({"ORDERS_DATA_DIR": str(folder), **TEST_ENV})


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def pg_settings(url: str, database: str, data_dir: Path) -> Settings:
    database_url = make_url(url).set(database=database).render_as_string(False)
    return Settings.from_env({"DATABASE_URL": database_url, "ORDERS_DATA_DIR": str(data_dir), **TEST_ENV})


def pg_template(url: str, worker: str, data_dir: Path) -> str:
    # Unique per run: two test runs on one server (a developer's and CI's) must not share a template.
    name = f"orders_tpl_{worker}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    upgrade(pg_settings(url, name, data_dir))
    return name


def pg_clone(url: str, template: str, data_dir: Path) -> tuple[Settings, str]:
    name = f"orders_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return pg_settings(url, name, data_dir), name


def pg_drop(url: str, name: str) -> None:
    asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PgClones:
    """`pg_clone` and `pg_drop` for one test process, off the test's path.

    CREATE DATABASE and DROP DATABASE wait on the server's disk (0.1-0.9 s each on a busy machine). A thread
    makes the next test's database while the current test runs, and drops each finished one behind it: the test
    still gets a fresh clone of the template of its own, nobody else's, and every clone is dropped at the end.
    """

    def __init__(self, url: str, template: str) -> None:
        self.url, self.template = url, template
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self.next: Future[str] | None = None
        self.drops: list[Future[None]] = []
        self.made: list[str] = []

    def _create(self) -> str:
        name = f"orders_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(self.url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.made.append(name)
        return name

    def take(self, data_dir: Path) -> tuple[Settings, str]:
        name = self.next.result() if self.next is not None else self._create()
        self.next = self.thread.submit(self._create)
        return pg_settings(self.url, name, data_dir), name

    def drop(self, name: str) -> None:
        self.drops.append(self.thread.submit(pg_drop, self.url, name))

    def close(self) -> None:
        """Drop the clone made ahead and wait for every drop: one that failed fails here, as it did in teardown."""
        if self.next is not None:
            self.drop(self.next.result())
            self.next = None
        self.thread.shutdown(wait=True)
        for dropped in self.drops:
            dropped.result()
