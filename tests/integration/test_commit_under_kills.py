"""The short database fault run: amendments and new orders while PostgreSQL connections are terminated.

Every 2xx must be in the database afterwards (the amendment answered with version V is the order's version
V, with its change), and no request may be answered 500. The killers (bench/dbfault/workload.py) terminate every
connection now and then, and often those that wrote and wait for their client, most often just before COMMIT:
before commits were checked, every run of four lost one or two acknowledged changes. The long run is
bench/db_fault_bench.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.conftest import engine_settings

# The workload is the bench's (bench/dbfault), imported the way bench/db_fault_bench.py imports it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from dbfault import workload

pytestmark = pytest.mark.anyio
BASE = "http://testserver"


@pytest.fixture(params=["postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_every_change_answered_2xx_survives_connections_being_terminated(
    settings: Settings, keys: dict[str, str]
) -> None:
    # The app in this test's event loop (the test client runs it in a thread of its own, one request at a time):
    # the requests and the app's connections run side by side here, the killers in threads of their own.
    app = create_app(settings)
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    headers = {"Authorization": f"Bearer {keys['staff']}"}
    transport = httpx.ASGITransport(app=app)
    switching = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the killers' threads get their turn while the app computes an answer
    try:
        async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
            ledger = await workload.run(
                client, dsn, duration_s=5.0, kill_every_s=0.5, writers_every_s=0.005, amenders=3, creators=4
            )
            lost = await workload.lost(client, ledger)
    finally:
        sys.setswitchinterval(switching)
    assert ledger.rounds >= 3 and ledger.kills > 0, "the fault did not happen"
    assert ledger.ok > 0, f"nothing went through: {workload.summary(ledger)}"
    errors = {status for status in ledger.statuses if status >= 500 and status != 503}
    assert not errors, f"a {errors} under the fault, not a 503 to retry: {workload.summary(ledger)}"
    assert lost == [], workload.summary(ledger, len(lost))
