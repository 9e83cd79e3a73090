"""The suite's own set-up, made cheaper, still gives each test what it did: the app's handlers parsed as Litestar
parses them (tests/app_memo.py), a PostgreSQL database of its own (databases.PgClones), an empty database on the
Celery engine (celery_engine.CeleryEngine.reset)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import litestar.utils.signature as litestar_signature
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orders_service.app import create_app
from orders_service.auth.services import Role
from orders_service.db.models import OrderEvent
from orders_service.infra.settings import Settings
from tests.integration import databases as dbs
from tests.integration.api import Api, Shipping
from tests.integration.celery_engine import CeleryEngine
from tests.integration.conftest import engine_settings, make_keys


def test_a_second_app_parses_no_handler_signature_again(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[Any] = []
    original = litestar_signature.get_fn_type_hints

    def counted(fn: Any, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
        parsed.append(fn)
        return original(fn, namespace)

    monkeypatch.setattr(litestar_signature, "get_fn_type_hints", counted)
    settings = dbs.sqlite_clone(sqlite_template, tmp_path / "data")
    first = create_app(settings)
    parsed.clear()
    second = create_app(settings)
    assert parsed == []
    # Each app has its own handlers, bound to its own controllers, with the same routes.
    assert set(first.route_handler_method_map) == set(second.route_handler_method_map)
    assert first.asgi_router.root_route_map_node is not second.asgi_router.root_route_map_node


def _hinted(kind: type) -> Any:
    """A new closure each call, annotated with `kind` itself (this module's own annotations are strings)."""

    def handler(value):  # type: ignore[no-untyped-def]
        return value

    handler.__annotations__ = {"value": kind, "return": kind}
    return handler


class _Page:
    def show(self, order_id: int) -> str:
        return str(order_id)


def test_closures_with_other_annotations_are_parsed_apart_and_methods_by_their_function() -> None:
    from litestar.utils.signature import ParsedSignature

    as_int, as_str = ParsedSignature.from_fn(_hinted(int), {}), ParsedSignature.from_fn(_hinted(str), {})
    assert as_int.parameters["value"].annotation is int and as_str.parameters["value"].annotation is str
    assert ParsedSignature.from_fn(_hinted(int), {}) is as_int  # same code, same annotations: parsed once

    first, second = ParsedSignature.from_fn(_Page().show, {}), ParsedSignature.from_fn(_Page().show, {})
    assert first is second and list(first.parameters) == ["order_id"]


def _databases(url: str) -> set[str]:
    async def names() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return set((await connection.execute(text("SELECT datname FROM pg_database"))).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(names())


def test_each_clone_is_fresh_and_every_clone_is_dropped(pg_template: str | None, tmp_path: Path) -> None:
    url = dbs.pg_url()
    if url is None or pg_template is None:
        pytest.skip(f"PostgreSQL not configured ({dbs.PG_URL_ENV}); ./dev test starts one")
    clones = dbs.PgClones(url, pg_template)
    taken = [clones.take(tmp_path / str(n)) for n in range(3)]
    names = [name for _, name in taken]
    assert len(set(names)) == 3 and set(names) <= _databases(url)
    assert all(settings.database_url.endswith(f"/{name}") for settings, name in taken)
    for name in names:
        clones.give_back(name)
    clones.close()
    assert len(clones.made) == 4  # one made ahead for a fourth test
    assert set(clones.made) & _databases(url) == set()


def test_a_database_handed_to_a_later_test_is_empty_and_nobody_is_connected_to_it(
    pg_template: str | None, tmp_path: Path
) -> None:
    url = dbs.pg_url()
    if url is None or pg_template is None:
        pytest.skip(f"PostgreSQL not configured ({dbs.PG_URL_ENV}); ./dev test starts one")
    clones, loop = dbs.PgClones(url, pg_template), asyncio.new_event_loop()
    try:
        settings, name = clones.take(tmp_path / "first")
        asyncio.run(make_keys(settings))  # the first test's rows
        left_open = loop.run_until_complete(_connected(settings))  # and a connection it never closed
        assert {n: c for n, c in asyncio.run(_row_counts(settings)).items() if c} == {"api_keys": len(Role)}
        clones.give_back(name)
        _, second_name = clones.take(tmp_path / "second")  # made while the first ran
        clones.give_back(second_name)
        third, third_name = clones.take(tmp_path / "third")
        assert third_name == name and third.database_url == settings.database_url
        assert {n: c for n, c in asyncio.run(_row_counts(third)).items() if c} == {}
        assert loop.run_until_complete(_alive(left_open)) is False
    finally:
        clones.close()
        loop.close()
    assert set(clones.made) & _databases(url) == set()


async def _connected(settings: Settings) -> asyncpg.Connection:
    return await asyncpg.connect(make_url(settings.database_url).set(drivername="postgresql").render_as_string(False))


async def _alive(connection: asyncpg.Connection) -> bool:
    try:
        await connection.fetchval("SELECT 1")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError, OSError):
        return False
    finally:
        connection.terminate()
    return True


async def _row_counts(settings: Settings) -> dict[str, int]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: await connection.scalar(text(f'SELECT count(*) FROM "{table.name}"'))
                for table in OrderEvent.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@pytest.fixture(params=["celery"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The Celery engine only: the other engines clone a database per test."""
    yield from engine_settings(request, tmp_path)


@pytest.mark.anyio
async def test_the_celery_engine_is_empty_again_for_the_next_test(
    api: Api, settings: Settings, celery_engine: CeleryEngine
) -> None:
    await Shipping(api).ship(await api.create_order())
    filled = {name for name, count in (await _row_counts(settings)).items() if count}
    assert {"orders", "order_lines", "customers", "order_events", "shipments", "api_keys"} <= filled
    await asyncio.to_thread(celery_engine.reset)
    assert {name: count for name, count in (await _row_counts(settings)).items() if count} == {}
