"""API keys: an admin may revoke any key but the last active admin key, which would lock every admin out of the
API (409, and the key keeps working). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orders_service.auth import middleware
from orders_service.auth.services import find_active
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


async def test_a_busy_key_is_looked_up_again_by_one_request_before_its_answer_expires(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request in flight when the cached answer expired used to look the key up at once, each with its own
    connection: a burst of identical queries every CACHE_SECONDS under load. In the answer's last second one
    request looks it up again and the others keep the answer; a revoked key still stops within CACHE_SECONDS."""
    now = [1_000.0]
    monkeypatch.setattr(middleware, "clock", lambda: now[0])
    monkeypatch.setattr(middleware.ApiKeyAuthentication, "_cache", {})  # answers cached on the real clock
    looked_up = []

    async def counted(session: Any, key: str) -> Any:
        looked_up.append(key)
        return await find_active(session, key)

    monkeypatch.setattr(middleware, "find_active", counted)

    async def burst() -> set[int]:
        answers = await asyncio.gather(*(api.request("GET", "/api/orders") for _ in range(8)))
        return {answer.status_code for answer in answers}

    assert await burst() == {200}
    first = len(looked_up)  # the first burst found nothing cached
    now[0] += middleware.CACHE_SECONDS - middleware.REFRESH_S / 2  # the answer's last second
    assert await burst() == {200}
    assert len(looked_up) == first + 1  # one request looked it up again, the seven others kept the answer
    now[0] += middleware.REFRESH_S  # past the first answer's expiry: the renewed one holds
    assert await burst() == {200}
    assert len(looked_up) == first + 1

    ids = await key_ids(api, "admin")
    revoked = await api.request("DELETE", f"/api/keys/{ids['test-staff']}", key="admin")
    assert revoked.status_code == 200, revoked.text
    now[0] += middleware.CACHE_SECONDS
    assert await burst() == {401}
