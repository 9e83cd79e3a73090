"""What every request goes through before its handler's work, counted (never timed), on SQLite and PostgreSQL.

bench/floor_bench.py measures what each layer costs; these pin what it is made of, so that a layer cut for issue 18
does not come back unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar._kwargs import kwargs_model
from litestar.routes import HTTPRoute

from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def test_no_handler_takes_a_dependency_but_its_session(app: Litestar) -> None:
    """Litestar resolves two or more dependencies of a handler in an anyio task group, a task each (about 0.3 ms
    per request, bench/README.md): the app's constants (warehouse, discounts, sessionmaker) are read from its
    state instead (orders_service/infra/deps.py), so a handler has at most the request's session."""
    others = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (_, kwargs) in route.route_handler_map.items():
            names = {dependency.key for batch in kwargs.dependency_batches for dependency in batch}
            if names - {"db_session"}:
                others[f"{method} {route.path}"] = sorted(names)
    assert others == {}


async def test_an_amendment_resolves_its_session_without_a_task_group(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = []
    task_group = kwargs_model.create_task_group

    def counted() -> Any:
        opened.append(1)
        return task_group()

    monkeypatch.setattr(kwargs_model, "create_task_group", counted)
    order = await api.create_order()
    line = order["lines"][0]
    opened.clear()
    response = await api.amend(order, {"op": "set_quantity", "line_id": line["id"], "quantity": line["quantity"] + 1})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == order["version"] + 1
    assert len(opened) == 0
