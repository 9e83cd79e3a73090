"""The short version of the scale run (bench/scale_bench.py), on the test servers.

2 API processes behind the bench's load balancer, 2 Celery workers, beat and the standalone sandbox courier,
started by deploy/stack.sh on free ports, with their own folder, database and Celery queue on the shared test
PostgreSQL and Redis; 20 s of open-loop mixed load at 5 operations/s; SIGKILL of the first API process, SIGKILL
of a worker, and a courier outage. Not the Redis and PostgreSQL restarts: the other tests share those servers.

The run's JSON, markdown, plot and the stack's logs are kept in build/test-artifacts/test_scale_run/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from scale.cli import main

from tests.browser.chromium import ARTIFACTS
from tests.integration.celery_engine import REDIS_URL_ENV
from tests.integration.databases import PG_URL_ENV

SECONDS, RATE = 20, 5
FAULTS = ["kill_api", "kill_worker", "courier_outage"]
# How long the outbox may take to empty after the load. A message the SIGKILLed worker was handling comes back
# when its claim runs out (ORDERS_RELAY_LEASE_S, 30 s; a live worker renews it, a dead one cannot), then needs a
# beat tick and a worker; the retries the courier outage caused back off from 1 s. Half a minute more covers both.
DRAIN_BOUND_S = 60
# Start-up (migrations, 6 processes), the load, the drain, the checks and stopping everything, with room.
TIMEOUT_S = 120 + SECONDS + DRAIN_BOUND_S


def _servers() -> tuple[str, str]:
    pg, redis = os.environ.get(PG_URL_ENV), os.environ.get(REDIS_URL_ENV)
    if not pg or not redis:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the scale run: set {PG_URL_ENV} and {REDIS_URL_ENV} (./dev test does)")
        pytest.skip("PostgreSQL and Redis not configured; ./dev test starts them")
    return pg, redis


def stack_processes(stack_dir: Path) -> list[int]:
    """Every process running with the stack's settings (API, workers and their pool, beat, sandbox)."""
    marker = f"ORDERS_DATA_DIR={stack_dir / 'data'}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
    return found


def still_running(stack_dir: Path, grace_s: float = 5.0) -> list[int]:
    """The stack's processes that outlive `stack.sh down`. Down ends with SIGKILL to each process group, and a
    killed process stays in /proc until the kernel has torn it down: those get a moment, the others are found."""
    deadline = time.monotonic() + grace_s
    while (left := stack_processes(stack_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.timeout(TIMEOUT_S)
def test_short_scale_run(tmp_path: Path) -> None:
    pg, redis = _servers()
    stack_dir, artifacts = tmp_path / "stack", ARTIFACTS / "test_scale_run"
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    argv = ["--seconds", str(SECONDS), "--rate", str(RATE), "--faults", ",".join(FAULTS), "--skip-embedded",
            "--free-ports", "--stack-dir", str(stack_dir), "--pg-url", pg, "--redis-url", redis,
            "--drain-limit", str(DRAIN_BOUND_S), "--results", str(artifacts)]  # fmt: skip
    try:
        exit_code = main(argv)
    finally:
        left = still_running(stack_dir)
        for pid in left:  # whatever stack.sh down missed must not outlive the test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if (stack_dir / "logs").exists():
            shutil.copytree(stack_dir / "logs", artifacts / "logs")
    assert not left, f"processes of the stack still running after the run: {left}"

    report = json.loads(next(artifacts.glob("scale-*.json")).read_text())
    (run,) = report["runs"].values()
    first_api, second_api = report["stack"]["api_ports"]

    assert [f["name"] for f in run["faults"]] == FAULTS
    for fault in run["faults"]:
        assert fault["error"] is None and fault["healed_at"] is not None, fault
    assert run["faults"][0]["detail"]["port"] == first_api  # the one that used to get every courier webhook

    not_held = {name: r for name, r in run["invariants"].items() if not r["held"]}
    assert not not_held, not_held
    assert exit_code == 0

    outbox = run["outbox"]
    assert outbox["drained"], f"outbox not empty {DRAIN_BOUND_S} s after the load: {outbox['depth_left']} left"
    assert outbox["drain_s"] <= DRAIN_BOUND_S

    # While the first API process was down, the balancer sent its turns to the other one; both served.
    backends = run["balancer"]["backends"]
    assert backends[str(first_api)]["failed_over"] > 0, backends
    assert backends[str(second_api)]["failed_over"] == 0, backends
    assert backends[str(first_api)]["served"] > 0 and backends[str(second_api)]["served"] > 0, backends
    assert run["balancer"]["unserved"] == 0

    # The mix ran: orders were created, changed and shipped, and the courier moved parcels on. A parcel reaches the
    # courier through the worker, killed at 30% of the run: when it took until the last seconds to come back (19.6 s
    # of 20 once, on a machine full with the rest of the suite), no parcel could be picked up in time.
    ops = run["operations"]
    worker_back_s = next(f["healed_at"] for f in run["faults"] if f["name"] == "kill_worker")
    moved = ("courier_picked",) if worker_back_s < SECONDS - 5 else ()
    for op in ("create", "amend", "ship", *moved):
        assert ops.get(op, {}).get("ok", 0) > 0, (op, ops.get(op), f"worker back at {worker_back_s} s")
    assert run["orders"] >= SECONDS * RATE / 10
