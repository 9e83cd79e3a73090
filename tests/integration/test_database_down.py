"""A database that does not answer gives a 503 to retry (with Retry-After), never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from orders_service.app import create_app
from orders_service.auth.services import KEY_PREFIX
from tests.integration import databases as dbs
from tests.integration.processes import free_port

pytestmark = pytest.mark.anyio


async def test_requests_while_postgresql_is_down_are_told_to_retry(tmp_path: Path) -> None:
    nobody = f"postgresql+asyncpg://orders@127.0.0.1:{free_port()}/orders"  # a port nothing listens on
    settings = dbs.pg_settings(nobody, "orders", tmp_path)
    app = create_app(settings, couriers=[])  # couriers given: nothing reads the database at start
    key = {"Authorization": f"Bearer {KEY_PREFIX}{'x' * 40}"}  # well formed, so it is looked up
    async with AsyncTestClient(app=app) as client:
        for method, path in [("GET", "/api/orders"), ("POST", "/api/orders"), ("GET", "/dashboard/orders")]:
            response = await client.request(method, path, headers=key, json={})
            if path.startswith("/dashboard"):  # signed-out staff go to the login page, which needs no database
                assert response.status_code in {200, 302, 303}, (path, response.text)
                continue
            assert response.status_code == 503, (method, path, response.text)
            assert response.headers["retry-after"] == "2"
            assert response.json()["type"].endswith("/unavailable")
        ready = await client.get("/ready")
        assert ready.status_code == 503 and "database" in ready.text
