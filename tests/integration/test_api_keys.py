"""API keys: an admin may revoke any key but the last active admin key, which would lock every admin out of the
API (409, and the key keeps working). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def key_ids(api: Api, key: str = "admin") -> dict[str, str]:
    listed = await api.request("GET", "/api/keys", key=key)
    assert listed.status_code == 200, listed.text
    return {k["name"]: k["id"] for k in listed.json() if k["revoked_at"] is None}


async def test_the_last_active_admin_key_cannot_be_revoked(api: Api) -> None:
    ids = await key_ids(api)
    last = await api.request("DELETE", f"/api/keys/{ids['test-admin']}", key="admin")
    assert last.status_code == 409, last.text
    assert last.headers["content-type"].startswith("application/problem+json")
    assert last.json()["type"].endswith("/last-admin-key") and "last active admin key" in last.json()["detail"]
    assert set(await key_ids(api)) == {"test-admin", "test-staff"}  # still there, and it still works

    made = await api.request("POST", "/api/keys", key="admin", json={"name": "second", "role": "admin"})
    assert made.status_code == 201, made.text
    second = made.json()["key"]
    first_gone = await api.request("DELETE", f"/api/keys/{ids['test-admin']}", key=second)
    assert first_gone.status_code == 200 and first_gone.json()["revoked_at"] is not None, first_gone.text
    itself = await api.request("DELETE", f"/api/keys/{made.json()['id']}", key=second)
    assert itself.status_code == 409, itself.text
    staff = await api.request("DELETE", f"/api/keys/{ids['test-staff']}", key=second)  # staff keys: any of them
    assert staff.status_code == 200, staff.text
    assert set(await key_ids(api, second)) == {"second"}
