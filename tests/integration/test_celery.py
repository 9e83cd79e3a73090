"""At scale: a real API process, a real Celery worker and beat over PostgreSQL and Redis, and a worker killed."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration import databases as dbs
from tests.integration.api import order_payload
from tests.integration.celery_engine import REDIS_URL_ENV
from tests.integration.processes import BIN, Processes, clean_env, free_port, wait_for


class Stack(Processes):
    """orders-service serve (relay: celery), worker and beat, sharing one database, broker and data folder."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        super().__init__(env, folder)
        self.port = int(env["ORDERS_PORT"])
        self.base = f"http://127.0.0.1:{self.port}"


@pytest.fixture
def stack(tmp_path: Path, pg_template: str | None) -> Iterator[Stack]:
    pg_url, redis_url = dbs.pg_url(), os.environ.get(REDIS_URL_ENV)
    if pg_url is None or pg_template is None or redis_url is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Celery tests: set {dbs.PG_URL_ENV} and {REDIS_URL_ENV} (./dev test does)")
        pytest.skip("PostgreSQL and Redis not configured; ./dev test starts them")
    settings, database = dbs.pg_clone(pg_url, pg_template, tmp_path / "data")
    port = free_port()
    env = {
        **clean_env(),
        "DATABASE_URL": settings.database_url,
        "ORDERS_DATA_DIR": str(settings.data_dir),
        "ORDERS_PORT": str(port),
        "ORDERS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ORDERS_RELAY": "celery",
        "ORDERS_BROKER_URL": redis_url,
        "ORDERS_CELERY_QUEUE": f"orders-test-{uuid.uuid4().hex[:8]}",
        "ORDERS_RELAY_LEASE_S": "4",
        "ORDERS_SYNC_LEASE_S": "4",
        "ORDERS_LEASE_RENEW_S": "2",  # twice per lease, and every courier call ends before it (check_timing)
        "ORDERS_RELAY_BACKOFF_S": "0.2",
        "ORDERS_SANDBOX_TIMEOUT_S": "1.9",
        "ORDERS_COURIER_TIMEOUT_S": "1.9",
    }
    running = Stack(env, tmp_path)
    try:
        running.start("api", "serve")
        wait_for(lambda: httpx.get(f"{running.base}/health").status_code == 200, what="the API")
        running.start("worker", "worker", "--concurrency", "1")
        running.start("beat", "beat")
        yield running
    finally:
        running.stop()
        print(running.tails(("api", "worker", "worker-2", "beat")))
        dbs.pg_drop(pg_url, database)


def _key(stack: Stack) -> str:
    out = subprocess.run(
        [str(BIN / "orders-service"), "keys", "create", "--name", "celery-test", "--role", "staff"],
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _sandbox(stack: Stack) -> httpx.Client:
    """The sandbox courier's own API (its faults and call counts), with its token."""
    secrets = json.loads((Path(stack.env["ORDERS_DATA_DIR"]) / "secrets.json").read_text())
    headers = {"Authorization": f"Bearer {secrets['sandbox_token']}"}
    return httpx.Client(base_url=f"{stack.base}/sandbox-courier", timeout=30, headers=headers)


def _rename(client: httpx.Client, path: str, order: dict[str, Any], name: str) -> httpx.Response:
    """A new recipient name on the order, at the version given; it must be accepted."""
    body = {"operations": [{"op": "set_recipient", "name": name}]}
    amended = client.post(f"{path}/amendments", headers={"If-Match": f'"{order["version"]}"'}, json=body)
    assert amended.status_code == 200, amended.text
    return amended


def _synced(client: httpx.Client, path: str) -> dict[str, Any] | None:
    """The order, once its shipment holds its current version."""
    current: dict[str, Any] = client.get(path).json()
    shipment = current["shipment"]
    return current if shipment["sync_state"] == "synced" and shipment["synced_version"] == current["version"] else None


def test_a_worker_killed_mid_sync_loses_nothing_and_repeats_nothing(stack: Stack) -> None:
    client = httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {_key(stack)}"}, timeout=30)
    order = client.post("/api/orders", json=order_payload()).json()
    path = f"/api/orders/{order['id']}"
    order = client.post(f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'}).json()
    order = client.post(f"{path}/ship", headers={"If-Match": f'"{order["version"]}"'}).json()

    def synced() -> dict[str, Any] | None:
        return _synced(client, path)

    order = wait_for(synced, what="the first sync, by the Celery worker")
    tracking = order["shipment"]["tracking_code"]

    sandbox = _sandbox(stack)
    assert sandbox.post("/_faults", json={"delay_ms": 6000}).status_code == 200
    amended = _rename(client, path, order, "Chị Hoa")
    wait_for(
        lambda: sandbox.get("/_faults").json()["calls"].get("update", 0) >= 1,
        what="the worker calling the courier",
    )
    stack.kill("worker")  # mid-call: the task is neither acknowledged nor finished
    assert sandbox.post("/_faults", json={"delay_ms": 0}).status_code == 200
    stack.start("worker", "worker", "--concurrency", "1")

    final = wait_for(synced, what="the sync after the worker's restart")
    parcel = client.get(f"/sandbox-courier/shipments/{tracking}").json()  # a staff key opens the driver's views
    assert parcel["recipient_name"] == "Chị Hoa" and final["version"] == amended.json()["version"]
    assert sandbox.get("/_faults").json()["calls"].get("create", 0) == 1  # one courier order, ever

    picked = client.post(f"/sandbox-courier/shipments/{tracking}/events", json={"status": "picked"})
    assert picked.json()["delivered"] is True
    after_pickup = wait_for(lambda: synced() if client.get(path).json()["status"] == "in_transit" else None)
    assert after_pickup["shipment"]["status"] == "picked"


def test_a_slow_courier_call_is_made_once(stack: Stack) -> None:
    """The courier takes most of its timeout to answer (a courier call can no longer outlast a lease renewal:
    settings.check_timing; a handler longer than the lease is test_relay_leases' case): a second worker, taking
    beat's next dispatches meanwhile, finds the message and the shipment taken, and nobody calls the courier a
    second time."""
    stack.start("worker-2", "worker", "--concurrency", "1", "--name", "second")
    client = httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {_key(stack)}"}, timeout=30)
    order = client.post("/api/orders", json=order_payload()).json()
    path = f"/api/orders/{order['id']}"
    order = client.post(f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'}).json()
    order = client.post(f"{path}/ship", headers={"If-Match": f'"{order["version"]}"'}).json()
    order = wait_for(lambda: _synced(client, path), what="the first sync")

    sandbox = _sandbox(stack)
    assert sandbox.post("/_faults", json={"delay_ms": 1500}).status_code == 200
    amended = _rename(client, path, order, "Chị Lan")
    final = wait_for(lambda: _synced(client, path), what="the slow sync")
    assert final["version"] == amended.json()["version"]
    assert sandbox.get("/_faults").json()["calls"].get("update", 0) == 1
