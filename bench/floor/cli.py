"""One run of bench/floor_bench.py (bare route, the probes, the real amendment; one database), its table, its
JSON file, and the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from amend.load import LoadResult
from amend.raw import sqlite_synchronous
from amend.report import PACKAGES
from amend.wrk import wrk_path
from benchlib.load import bounded
from benchlib.postgres import database_url, fresh_database, shown_url
from benchlib.results import machine, versions, write_report
from benchlib.servers import BENCH_DIR, server_env

from floor.phases import PROBES, app_loads, app_server, bare_load, bare_server

REEXEC_VAR = "FLOOR_BENCH_REEXEC"  # set by floor_bench.py when it re-runs itself with .venv/bin/python
ORDER = ("bare", *PROBES, "amend")  # every row of the table, in this order


def rows(results: list[LoadResult]) -> list[dict[str, Any]]:
    """Each probe's figures, its server CPU per request, the increment over the row before and the ratio to bare."""
    table: list[dict[str, Any]] = []
    bare_ms = previous_ms = None
    for result in results:
        summary = result.summary()
        ms = summary.pop("cpu_ms_per_amendment")
        if result.mode == "bare":
            bare_ms = ms
        row = {
            "probe": result.mode,
            "requests_per_s": round(result.rate, 1),
            "cpu_ms_per_request": ms,
            "cpu_ms_over_previous": round(ms - previous_ms, 3) if ms is not None and previous_ms is not None else None,
            "cpu_over_bare": round(ms / bare_ms, 2) if ms is not None and bare_ms else None,
            **{k: v for k, v in summary.items() if k not in ("mode", "amendments_per_s")},
        }
        table.append(row)
        previous_ms = ms
    return table


def render(table: list[dict[str, Any]]) -> str:
    def fmt(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines = [f"{'probe':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'+ms':>8} {'x bare':>7} "
             f"{'errors':>6}"]  # fmt: skip
    for row in table:
        latency = row["latency_ms"]
        lines.append(
            f"{row['probe']:<12} {row['requests_per_s']:>8.1f} {fmt(latency.get('p50'), '8.2f')} "
            f"{fmt(latency.get('p99'), '8.2f')} {fmt(row['cpu_ms_per_request'], '11.3f')} "
            f"{fmt(row['cpu_ms_over_previous'], '+8.3f')} {fmt(row['cpu_over_bare'], '7.2f')} {row['error_count']:>6}"
        )
    return "\n".join(lines)


async def _measure(args: argparse.Namespace, db: str, env: dict[str, str], work: Path) -> list[LoadResult]:
    bare_env = dict(os.environ)
    bare_env.pop(REEXEC_VAR, None)
    async with contextlib.AsyncExitStack() as stack:
        async with asyncio.TaskGroup() as group:  # both servers start at once; a failure stops the other
            bare_task = group.create_task(stack.enter_async_context(bare_server(args, bare_env, work)))
            app_task = group.create_task(stack.enter_async_context(app_server(args, db, env, work)))
        bare = await bare_load(args, bare_task.result(), work)
        return [bare, *await app_loads(args, db, app_task.result(), work)]


async def measure(args: argparse.Namespace, work: Path) -> tuple[list[LoadResult], dict[str, Any]]:
    extra = {"ORDERS_RELAY": "off", **args.server_env}
    if args.db == "sqlite":
        data_dir = work / "data"
        results = await _measure(args, "sqlite", server_env(data_dir, None, extra, REEXEC_VAR), work)
        where = {"database": f"{data_dir / 'orders.db'} (deleted after the run)"}
        return results, {**where, "sqlite_synchronous": sqlite_synchronous(args.server_env)}
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d_%H%M%S")
    name = f"floor_{stamp}_{os.getpid()}"
    async with fresh_database(args.pg_url, name) as server_version:
        env = server_env(work / "data", database_url(args.pg_url, name), extra, REEXEC_VAR)
        results = await _measure(args, "postgres", env, work)
    return results, {"database": f"{shown_url(args.pg_url, name)} (dropped after the run)",
                     "server_version": server_version}  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {
        "benchmark": "floor_bench",
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": versions(PACKAGES),
        "machine": machine(),
        "parameters": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "db": args.db,
            "server_env": {"ORDERS_RELAY": "off", **args.server_env},
            "client": f"wrk -t {args.connections} -c {args.connections}, bench/floor/probe.lua (probes), "
            "bench/amend/amend.lua (amend)",
            "server": "uvicorn, 1 process, log_config=None, access_log=False (as `orders-service serve`); "
            "bare: bench/bare_app.py; the rest: bench/floor/probe_app.py",
        },
    }
    print(f"floor_bench: {args.duration:g} s per probe (+{args.warmup:g} s warm-up), {args.connections} wrk "
          f"connections, {args.db}", flush=True)  # fmt: skip
    failed = False
    with tempfile.TemporaryDirectory(prefix="floor-bench-") as tmp:
        try:
            results, where = await measure(args, Path(tmp))
        except Exception as exc:
            results, where, failed = [], {"error": f"{type(exc).__name__}: {exc}"}, True
            print(f"  FAILED: {exc}", flush=True)
    table = rows(results)
    report.update(where)
    report["rows"] = table
    for row in table:
        if row["error_count"] or not row["ok"]:
            failed = True
            print(f"  FAILED: {row['probe']} answered {row['errors'] or 'nothing'}: {row['error_samples'][:2]}")
    missing = [probe for probe in ORDER if probe not in {row["probe"] for row in table}]
    failed = failed or bool(missing)
    report["failed"] = failed
    if table:
        print("\n" + render(table))
    path = write_report(args.results_dir, "floor", started, report)
    print(f"\nresults: {path}" + ("\nFAILED" if failed else ""), flush=True)
    return 1 if failed else 0


def _server_env(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("ORDERS_"):
        raise argparse.ArgumentTypeError(f"{text!r} is not ORDERS_NAME=value")
    return name, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Where an amendment's CPU goes before any order work: the bare route, then the app's layers "
        "one by one (bench/floor/probe_app.py), then the real amendment, each loaded by wrk.",
    )
    parser.add_argument("--duration", type=bounded(int, 1, 600), default=5, help="measured seconds per probe [5]")
    parser.add_argument("--warmup", type=bounded(int, 0, 60), default=1, help="unmeasured seconds before each [1]")
    parser.add_argument("--connections", type=bounded(int, 1, 256), default=8, help="wrk connections [8]")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite", help="database [sqlite]")
    parser.add_argument("--pg-url", default=os.environ.get("PG"), help="PostgreSQL SQLAlchemy URL [$PG]")
    parser.add_argument(
        "--server-env", type=_server_env, action="append", default=[], metavar="ORDERS_NAME=value",
        help="extra setting for the app server (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes [bench/results]"
    )
    args = parser.parse_args(argv)
    args.server_env = dict(args.server_env)
    if args.db == "postgres" and not args.pg_url:
        parser.error("--db postgres needs --pg-url (or $PG)")
    wrk_path()  # fails now, with how to install it, rather than after the setup
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
