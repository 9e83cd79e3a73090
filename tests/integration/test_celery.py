"""At scale: a real API process, a real Celery worker and beat over PostgreSQL and Redis, and a worker killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration import databases as dbs
from tests.integration.api import order_payload

REDIS_URL_ENV = "ORDERS_TEST_REDIS_URL"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], Any], within_s: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + within_s
    while True:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within_s} s")
        time.sleep(0.2)


class Stack:
    """orders-service serve (relay: celery), worker and beat, sharing one database, broker and data folder."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder, self.procs = env, folder, {}  # type: dict[str, subprocess.Popen[bytes]]
        self.port = int(env["ORDERS_PORT"])
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, name: str, *args: str) -> None:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        self.procs[name] = subprocess.Popen(
            [str(BIN / "orders-service"), *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its pool children, with no chance to clean up
        proc.wait(10)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def stack(tmp_path: Path, pg_template: str | None) -> Iterator[Stack]:
    pg_url, redis_url = dbs.pg_url(), os.environ.get(REDIS_URL_ENV)
    if pg_url is None or pg_template is None or redis_url is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Celery tests: set {dbs.PG_URL_ENV} and {REDIS_URL_ENV} (./dev test does)")
        pytest.skip("PostgreSQL and Redis not configured; ./dev test starts them")
    settings, database = dbs.pg_clone(pg_url, pg_template, tmp_path / "data")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"},
        "DATABASE_URL": settings.database_url,
        "ORDERS_DATA_DIR": str(settings.data_dir),
        "ORDERS_PORT": str(port),
        "ORDERS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ORDERS_RELAY": "celery",
        "ORDERS_BROKER_URL": redis_url,
        "ORDERS_CELERY_QUEUE": f"orders-test-{uuid.uuid4().hex[:8]}",
        "ORDERS_RELAY_LEASE_S": "4",
        "ORDERS_SYNC_LEASE_S": "4",
        "ORDERS_RELAY_BACKOFF_S": "0.2",
        "ORDERS_SANDBOX_TIMEOUT_S": "20",
    }
    running = Stack(env, tmp_path)
    try:
        running.start("api", "serve")
        _wait(lambda: httpx.get(f"{running.base}/health").status_code == 200, what="the API")
        running.start("worker", "worker", "--concurrency", "1")
        running.start("beat", "beat")
        yield running
    finally:
        running.stop()
        for name in ("api", "worker", "beat"):
            log = tmp_path / f"{name}.log"
            if log.exists():
                print(f"--- {name}.log (tail)\n" + log.read_text(errors="replace")[-3000:])
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


def test_a_worker_killed_mid_sync_loses_nothing_and_repeats_nothing(stack: Stack) -> None:
    client = httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {_key(stack)}"}, timeout=30)
    order = client.post("/api/orders", json=order_payload()).json()
    path = f"/api/orders/{order['id']}"
    order = client.post(f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'}).json()
    order = client.post(f"{path}/ship", headers={"If-Match": f'"{order["version"]}"'}).json()

    def synced() -> dict[str, Any] | None:
        current = client.get(path).json()
        shipment = current["shipment"]
        return (
            current if shipment["sync_state"] == "synced" and shipment["synced_version"] == current["version"] else None
        )

    order = _wait(synced, what="the first sync, by the Celery worker")
    tracking = order["shipment"]["tracking_code"]

    secrets = json.loads((Path(stack.env["ORDERS_DATA_DIR"]) / "secrets.json").read_text())
    sandbox = httpx.Client(
        base_url=f"{stack.base}/sandbox-courier",
        timeout=30,
        headers={"Authorization": f"Bearer {secrets['sandbox_token']}"},
    )
    assert sandbox.post("/_faults", json={"delay_ms": 6000}).status_code == 200
    amended = client.post(
        f"{path}/amendments",
        headers={"If-Match": f'"{order["version"]}"'},
        json={"operations": [{"op": "set_recipient", "name": "Chị Hoa"}]},
    )
    assert amended.status_code == 200, amended.text
    _wait(
        lambda: sandbox.get("/_faults").json()["calls"].get("update", 0) >= 1,
        what="the worker calling the courier",
    )
    stack.kill("worker")  # mid-call: the task is neither acknowledged nor finished
    assert sandbox.post("/_faults", json={"delay_ms": 0}).status_code == 200
    stack.start("worker", "worker", "--concurrency", "1")

    final = _wait(synced, what="the sync after the worker's restart")
    parcel = httpx.get(f"{stack.base}/sandbox-courier/shipments/{tracking}").json()
    assert parcel["recipient_name"] == "Chị Hoa" and final["version"] == amended.json()["version"]
    assert sandbox.get("/_faults").json()["calls"].get("create", 0) == 1  # one courier order, ever

    picked = httpx.post(f"{stack.base}/sandbox-courier/shipments/{tracking}/events", json={"status": "picked"})
    assert picked.json()["delivered"] is True
    after_pickup = _wait(lambda: synced() if client.get(path).json()["status"] == "in_transit" else None)
    assert after_pickup["shipment"]["status"] == "picked"
