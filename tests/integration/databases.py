"""Fresh databases for each test, on SQLite and PostgreSQL, cloned from one migrated template."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orders_service.db.migrate import upgrade
from orders_service.db.models import OrderEvent
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


# Children before parents: emptied with DELETE, not TRUNCATE (TRUNCATE makes each table a new file, synced at
# commit). The schema has no sequences, and the migrations add no rows to an empty database: emptied, a database
# is as its template made it.
EMPTY_TABLES = "DO $$ BEGIN {} END $$".format(
    " ".join(f'DELETE FROM "{t.name}";' for t in reversed(OrderEvent.metadata.sorted_tables))
)
# What DROP DATABASE ... WITH (FORCE) did to whatever a test left connected: cut off, and gone (it waits up to
# 5 s for them to exit), before its rows go.
_OTHERS = "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
_CUT_OFF_WITHIN_S = 5.0


async def _emptied(url: str, name: str) -> None:
    connection = await asyncpg.connect(_dsn(url, name))
    try:
        await connection.execute(f"SELECT pg_terminate_backend(pid) {_OTHERS}", name)
        async with asyncio.timeout(_CUT_OFF_WITHIN_S):
            while await connection.fetchval(f"SELECT count(*) {_OTHERS}", name):  # noqa: ASYNC110 (the server's state)
                await asyncio.sleep(0.01)
        await connection.execute(EMPTY_TABLES)
    finally:
        await connection.close()


def _dsn(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(False)


class PgClones:
    """A PostgreSQL database of its own for each test of one test process, made off the test's path.

    A clone of the template per test cost the server a CREATE DATABASE (9 MB copied through the WAL) and a
    DROP DATABASE (a checkpoint of the whole server): about a tenth of the machine's CPU over the suite. So a
    finished test's database is emptied instead (its connections cut off, as DROP ... WITH (FORCE) did, then
    every table's rows deleted) and handed to a later test: each test still has a database nobody else uses,
    empty as the template. A thread does the emptying while the next test runs on another database. Every
    database made is dropped at the end.
    """

    def __init__(self, url: str, template: str) -> None:
        self.url, self.template = url, template
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self.ready: list[Future[str]] = []  # made or emptied for the next tests, oldest first
        self.made: list[str] = []

    def _create(self) -> str:
        name = f"orders_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(self.url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.made.append(name)
        return name

    def _empty(self, name: str) -> str:
        asyncio.run(_emptied(self.url, name))
        return name

    def take(self, data_dir: Path) -> tuple[Settings, str]:
        name = self.ready.pop(0).result() if self.ready else self._create()
        if not self.ready:  # the test after this one finds one made while this one runs
            self.ready.append(self.thread.submit(self._create))
        return pg_settings(self.url, name, data_dir), name

    def give_back(self, name: str) -> None:
        """The test is done with `name`: emptied behind it, for a later test."""
        self.ready.append(self.thread.submit(self._empty, name))

    def close(self) -> None:
        """Drop every database made: one that failed to be made or emptied fails here, as it did in teardown."""
        for future in self.ready:
            future.result()
        self.ready = []
        self.thread.shutdown(wait=True)
        for name in self.made:
            pg_drop(self.url, name)
