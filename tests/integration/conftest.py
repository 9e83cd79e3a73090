"""Integration fixtures: the real app and migrations, on SQLite, on PostgreSQL, and at scale (Celery engine).

Every test that takes `settings` (or `api`) runs three times: embedded on SQLite, embedded on PostgreSQL, and
with relay=celery on PostgreSQL and Redis with a real worker process (see celery_engine.py). Each gets a database
of its own: a copy of a migrated SQLite template, a PostgreSQL clone of a migrated template (made ahead, and
emptied behind the test for a later one, by a thread: databases.PgClones), or the Celery engine's database
emptied.

A test whose outcome depends on the time of day (quiet hours, campaign pacing, deferred sends) takes
`time_of_day`: it runs once with the clock pinned inside the quiet hours and once outside them, whatever the
hour the suite runs at.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.infra import clock
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from tests.integration import databases as dbs
from tests.integration.api import Api
from tests.integration.celery_engine import REDIS_URL_ENV, CeleryEngine, served

DATABASES = ["sqlite", "postgres"]
ENGINES = [*DATABASES, "celery"]
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Local times in Vietnam: inside the default quiet hours (22:00-07:00) and inside the marketing window.
TIMES_OF_DAY = {"quiet-hours": datetime.time(23, 30), "open-hours": datetime.time(10, 0)}


@pytest.fixture(params=list(TIMES_OF_DAY))
def time_of_day(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The clock pinned at the next 23:30, then at the next 10:00 in Vietnam: the name of the one it is at.

    The next one, not the last: timestamps taken from the wall clock (sessions, links) stay in the past. The
    Celery engine's worker is a process of its own on the wall clock, so there the test runs once, unpinned
    (None), and must accept either outcome.
    """
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("settings") == "celery":
        if request.param != "quiet-hours":
            pytest.skip("the Celery worker keeps the wall clock: one run is enough")
        yield None
        return
    with clock.pinned(clock.next_local(TIMES_OF_DAY[request.param], VIETNAM)):
        yield request.param


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


@pytest.fixture(scope="session")
def pg_clones(pg_template: str | None) -> Iterator[dbs.PgClones | None]:
    url = dbs.pg_url()
    if url is None or pg_template is None:
        yield None
        return
    clones = dbs.PgClones(url, pg_template)
    yield clones
    clones.close()


@pytest.fixture(scope="session")
def celery_engine(tmp_path_factory: pytest.TempPathFactory, pg_template: str | None) -> Iterator[CeleryEngine]:
    pg_url, redis_url = dbs.pg_url(), os.environ.get(REDIS_URL_ENV)
    if pg_url is None or pg_template is None or redis_url is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Celery engine: set {dbs.PG_URL_ENV} and {REDIS_URL_ENV} (./dev test does)")
        pytest.skip("PostgreSQL and Redis not configured; ./dev test starts them")
    engine = CeleryEngine(pg_url, pg_template, redis_url, tmp_path_factory.mktemp("celery-engine"))
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(params=ENGINES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def engine_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for one test on the engine named by `request.param`; modules that need fewer engines reuse it."""
    if request.param == "celery":
        engine: CeleryEngine = request.getfixturevalue("celery_engine")
        engine.reset()
        yield engine.settings(tmp_path / "data")
        return
    if request.param == "sqlite":
        sqlite_template: Path = request.getfixturevalue("sqlite_template")
        yield dbs.sqlite_clone(sqlite_template, tmp_path / "data")
        return
    clones: dbs.PgClones | None = request.getfixturevalue("pg_clones")
    if clones is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: set {dbs.PG_URL_ENV} (./dev test does)")
        pytest.skip(f"PostgreSQL not configured ({dbs.PG_URL_ENV}); ./dev test starts one")
    settings, name = clones.take(tmp_path / "data")
    yield settings
    clones.give_back(name)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app, settings) as http:
        yield http


@contextlib.asynccontextmanager
async def app_client(app: Litestar, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app`: in-process, or on the Celery engine over a real port the worker can reach too."""
    if settings.relay != "celery":
        async with AsyncTestClient(app=app, timeout=30) as test_client:
            yield test_client
        return
    async with served(app, settings.port), httpx.AsyncClient(base_url=settings.public_base_url, timeout=30) as http:
        yield http


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of the test's own on its database, for reading and writing beside the app (whose engine belongs
    to the test client's event loop)."""
    engine = create_engine(settings, poolclass=NullPool)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False, info=session_info(settings))
    finally:
        await engine.dispose()


async def make_keys(settings: Settings) -> dict[str, str]:
    """A key per role. Its own engine: the app's pool lives on the test client's event loop, not this one."""
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
async def keys(settings: Settings) -> dict[str, str]:
    return await make_keys(settings)


@contextlib.asynccontextmanager
async def shared_api(settings: Settings) -> AsyncIterator[Api]:
    """One app, client and keys for a whole module: for modules whose requests are all refused and change nothing."""
    made = await make_keys(settings)
    app = create_app(settings)
    async with app_client(app, settings) as client:
        yield Api(client, made["staff"], made["admin"], app)


@pytest.fixture
def api(app: Litestar, client: httpx.AsyncClient, keys: dict[str, str]) -> Api:
    return Api(client, keys["staff"], keys["admin"], app)
