"""Integration fixtures: the real app, the real migrations, SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.settings import Settings
from tests.integration import databases as dbs
from tests.integration.api import Api

DATABASES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbs.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str | None]:
    url = dbs.pg_url()
    if url is None:
        yield None
        return
    name = dbs.pg_template(url, worker_id, tmp_path_factory.mktemp("pg-template"))
    yield name
    dbs.pg_drop(url, name)


@pytest.fixture(params=DATABASES)
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str | None
) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield dbs.sqlite_clone(sqlite_template, tmp_path / "data")
        return
    url = dbs.pg_url()
    if url is None or pg_template is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: set {dbs.PG_URL_ENV} (./dev test does)")
        pytest.skip(f"PostgreSQL not configured ({dbs.PG_URL_ENV}); ./dev test starts one")
    settings, name = dbs.pg_clone(url, pg_template, tmp_path / "data")
    yield settings
    dbs.pg_drop(url, name)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings)
    async with AsyncTestClient(app=app, timeout=30) as test_client:
        yield test_client


@pytest.fixture
async def keys(settings: Settings) -> dict[str, str]:
    # Its own engine: the app's pool lives on the test client's event loop, not this one.
    engine = create_engine(settings, poolclass=NullPool)
    made = {}
    try:
        async with AsyncSession(engine) as session, session.begin():
            for role in Role:
                _, made[str(role)] = await create_key(session, f"test-{role}", role)
    finally:
        await engine.dispose()
    return made


@pytest.fixture
def api(client: AsyncTestClient[Any], keys: dict[str, str]) -> Api:
    return Api(client, keys["staff"], keys["admin"])
