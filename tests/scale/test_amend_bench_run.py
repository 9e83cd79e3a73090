"""The short version of bench/amend_bench.py, so that it cannot rot: every mode runs, and the raw-SQL baseline is
the SQL the app runs today, captured from it, never a stale list. No figure is judged here (no timing
assertions): the bench reports them."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from amend.cli import parse_args, run
from amend.report import idle_modes
from amend.statements import SQLITE, ReplayError, build_replay

from tests.integration.databases import PG_URL_ENV

CAPTURED = [
    "BEGIN IMMEDIATE",
    "SELECT orders.id, orders.code, orders.version, orders.customer_id, orders.shipping_fee, orders.shipping_payer, "
    "orders.discount_percent, orders.paid, EXISTS (SELECT * FROM orders AS orders_1 WHERE orders_1.merged_into_id = "
    "orders.id) AS has_sources, order_lines_1.id AS id_1, order_lines_1.sku, order_lines_1.name, order_lines_1.size, "
    "order_lines_1.color, order_lines_1.unit_price, order_lines_1.quantity, order_lines_1.tryon_options, "
    "order_lines_1.kept FROM orders LEFT OUTER JOIN order_lines AS order_lines_1 ON orders.id = "
    "order_lines_1.order_id WHERE orders.id = ? ORDER BY order_lines_1.position",
    "SELECT customer_tiers.tier FROM customer_tiers WHERE customer_tiers.customer_id = ?",
    "UPDATE orders SET version=? WHERE orders.id = ?",
    "INSERT INTO order_events (id, order_id) VALUES (?, ?)",
    'INSERT INTO outbox (id, topic, "key") VALUES (?, ?, ?)',
    "UPDATE order_lines SET quantity=? WHERE order_lines.id = ?",
    "COMMIT",
]


@pytest.mark.timeout(300)
def test_the_amend_bench_runs_every_mode_on_the_captured_sql(tmp_path: Path) -> None:
    databases = "sqlite,postgres" if os.environ.get(PG_URL_ENV) else "sqlite"
    argv = ["--duration", "1", "--warmup", "0", "--orders", "4", "--concurrency", "2", "--db", databases]
    argv += ["--client", "wrk" if shutil.which("wrk") else "httpx", "--results-dir", str(tmp_path)]
    if os.environ.get(PG_URL_ENV):
        argv += ["--pg-url", os.environ[PG_URL_ENV]]
    exit_code = asyncio.run(run(parse_args(argv)))

    (path,) = tmp_path.glob("amend-*.json")
    report = json.loads(path.read_text())
    assert report["bare"]["ok"] > 0 and report["bare"]["error_count"] == 0
    for db in databases.split(","):
        section = report["databases"][db]
        assert "error" not in section, section.get("error")
        check = section["sql_check"]
        assert check["replayed"] == "capture" and check["statements"] == len(check["captured"])
        assert check["outbox_topics"] == ["order.amended", "notifications.order_amended"]
        modes = {r["mode"]: r for r in section["results"]}
        # "open": amendments at fixed arrival times, at half the closed loop's rate (its p99/p50 is reported).
        assert set(modes) == {"http", "open", "raw-sql"}
        assert section["ratios"]["open_loop_rate"] is not None and "open_loop_p99_over_p50" in section["ratios"]
        assert all(r["ok"] > 0 and r["cpu_ms_per_amendment"] is not None for r in modes.values())
        assert modes["raw-sql"]["error_count"] == 0
        # The open loop starts once the relay has caught up with the closed loop (its depth read from /metrics).
        relay = section["server"]["relay"]
        assert isinstance(relay["before_open_loop"], int) and isinstance(relay["after_open_loop"], int), relay
    assert exit_code == 0


def test_a_capture_the_bench_cannot_replay_fails_the_run() -> None:
    """No fallback to an older list of statements: what the app runs and the baseline cannot drift apart."""
    outbox = ["order.amended"]
    replay = build_replay(CAPTURED, outbox, SQLITE)  # the order joined with its lines; the tier by customer
    assert replay.lines_joined and (replay.order_columns["id"], replay.line_columns["id"]) == (0, 9)
    assert [s.binds for s in replay.steps if s.kind in ("order", "read")] == ["order", "customer"]

    for extra, topics, problem in [
        ("SAVEPOINT sa_savepoint_1", outbox, "cannot replay: SAVEPOINT"),
        ("SELECT notifications.id FROM notifications WHERE notifications.dedupe_key = ?", outbox, "cannot tell"),
        (None, ["order.amended", "notifications.send"], "1 outbox rows in the SQL, 2 topics captured"),
    ]:
        statements = CAPTURED if extra is None else [*CAPTURED[:-1], extra, "COMMIT"]
        with pytest.raises(ReplayError, match=problem):
            build_replay(statements, topics, SQLITE)


def test_a_mode_that_completes_no_amendment_fails_the_run() -> None:
    """The SQLite raw-SQL baseline once deadlocked at 16 connections: 0 amendments, 0 errors, a ratio of "-",
    and exit 0. Such a run must fail."""
    row = {"mode": "http", "db": "sqlite", "ok": 120}
    assert idle_modes([row, {"mode": "bare", "db": None, "ok": 3}]) == []
    assert idle_modes([row, {"mode": "raw-sql", "db": "sqlite", "ok": 0}]) == ["raw-sql (sqlite)"]
