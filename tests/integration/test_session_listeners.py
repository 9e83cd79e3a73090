"""advanced-alchemy's cache and file-object listeners run on every commit and flush of every session. We use
neither, and a listener not told so asks the engine for its execution options, which builds a copy of the engine
each time: counted here over requests that commit and flush, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import Engine

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_no_request_builds_a_copy_of_the_engine(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    copies: list[Any] = []
    execution_options = Engine.execution_options

    def counted(self: Engine, **options: Any) -> Any:
        copies.append(options)
        return execution_options(self, **options)

    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        order = await api.create_order()  # warm: the app's own start-up may set options once
        monkeypatch.setattr(Engine, "execution_options", counted)
        again = await api.create_order()  # flushes and commits
        amended = await api.amend(again, {"op": "set_quantity", "line_id": again["lines"][0]["id"], "quantity": 2})
        confirmed = await api.request("POST", f"/api/orders/{order['id']}/confirm", headers={"If-Match": '"1"'})
    assert amended.status_code == 200 and confirmed.status_code == 200, (amended.text, confirmed.text)
    assert copies == []
