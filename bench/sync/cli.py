"""One run (the JSON file, the exit status) and the command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib.cpu import cpu_sample, cpu_use
from benchlib.load import bounded
from benchlib.results import machine, versions, write_report
from benchlib.servers import (
    BENCH_DIR,
)

from sync.report import PACKAGES, failures, render
from sync.rounds import run_database


def estimate_seconds(args: argparse.Namespace) -> float:
    per_round = 0.0
    for delay in args.delay_ms:
        call = delay / 1000 + 0.02
        per_round += args.orders * 0.05 + args.orders * (call + 0.04)  # setup, relay creates (one at a time)
        per_round += sum(args.raw_creates * call / c for c in args.raw_concurrency)
        per_round += len(args.bursts) * (args.amend_seconds + 3)
    return 8 + per_round


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {
        "benchmark": "sync_bench",
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": versions(PACKAGES),
        "machine": machine(),
        "parameters": {
            "db": args.db,
            "orders_per_round": args.orders,
            "ship_concurrency": args.ship_concurrency,
            "raw_concurrency": args.raw_concurrency,
            "raw_creates": args.raw_creates,
            "amend_rate_per_s": args.amend_rate,
            "amend_seconds": args.amend_seconds,
            "bursts": args.bursts,
            "delay_ms": args.delay_ms,
            "delay_jitter_ms": args.delay_jitter_ms,
            "poll_ms": args.poll_ms,
            "watch_rate_per_s": args.watch_rate,
            "drain_timeout_s": args.drain_timeout,
            "server_env": args.server_env,
            "server": "orders-service serve (uvicorn, 1 process), embedded relay and sandbox courier",
            "relay": "EmbeddedRelay on its own thread (unless ORDERS_RELAY_THREAD=off): woken by commits, batches "
            "of 50, handlers side by side (ORDERS_RELAY_CONCURRENCY)",
        },
        "result": {},
    }
    print(f"sync_bench: {args.db}, {args.orders} orders per round, courier delay {args.delay_ms} ms, amendments "
          f"{args.amend_rate:g}/s for {args.amend_seconds:g} s, bursts {args.bursts}; about "
          f"{estimate_seconds(args):.0f} s", flush=True)  # fmt: skip
    before = cpu_sample(None)
    await asyncio.sleep(1)
    background = cpu_use(before, cpu_sample(None), server_seconds=True)["system_pct"]
    report["machine"]["background_system_pct"] = background
    if background is not None and background > 15:
        print(f"  WARNING: the machine is already {background:.0f}% busy before the bench starts", flush=True)
    status = 0
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        try:
            report["result"] = await run_database(args, Path(tmp))
        except Exception as exc:
            status = 1
            report["result"] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
            print(f"  FAILED: {type(exc).__name__}: {exc}", flush=True)
    if pg := report["result"].get("postgres_server_version"):
        report["versions"]["postgres"] = pg
    report["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    report["failures"] = failures(report)
    print()
    print(render(report))
    whole = report["result"].get("server_log", {})
    if whole.get("courier_calls_logged"):
        print(f"server log, whole run: relay courier calls {whole['courier_calls_logged']}")
    if report["failures"]:
        status = 1
        print("FAILURES:\n  " + "\n  ".join(report["failures"]))
    path = write_report(args.results_dir, "sync", started, report)
    print(f"\nwrote {path}")
    return status


def _int_list(low: int, high: int) -> Callable[[str], list[int]]:
    def parse(text: str) -> list[int]:
        values: list[int] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                value = int(part)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{part!r} is not an integer (give a comma list)") from None
            if not low <= value <= high:
                raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
            values.append(value)
        if not values:
            raise argparse.ArgumentTypeError("give at least one value")
        return list(dict.fromkeys(values))

    return parse


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if name.strip() in ("ORDERS_DATA_DIR", "DATABASE_URL"):
        raise argparse.ArgumentTypeError(f"{name} is set by the bench (a fresh database per run)")
    if name.strip() == "ORDERS_RELAY" and value != "embedded":
        raise argparse.ArgumentTypeError("this bench measures the embedded relay: ORDERS_RELAY must stay embedded")
    return name.strip(), value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sync_bench.py",
        description="Courier sync through the embedded outbox relay: creates/s vs raw calls to the same sandbox "
        "courier API, and sync lag under an open-loop amendment load. Writes bench/results/sync-<timestamp>.json.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite", help="database [sqlite]")
    parser.add_argument("--orders", type=bounded(int, 1, 2000), default=200, help="orders shipped per round [200]")
    parser.add_argument("--ship-concurrency", type=bounded(int, 1, 64), default=8, help="ship requests in flight [8]")
    parser.add_argument(
        "--raw-concurrency", type=_int_list(1, 64), default=[1, 8], help="comma list for the raw baseline [1,8]"
    )
    parser.add_argument(
        "--raw-creates", type=bounded(int, 1, 20_000), default=None, help="creates per raw mode [--orders]"
    )
    parser.add_argument("--amend-rate", type=bounded(float, 0.1, 500), default=20.0, help="amendments/s [20]")
    parser.add_argument(
        "--amend-seconds", type=bounded(float, 0.5, 300), default=20.0, help="seconds of amendments per load [20]"
    )
    parser.add_argument(
        "--bursts",
        type=_int_list(1, 50),
        default=[1, 5],
        help="comma list; one amendment load each: B back-to-back edits of one order per event [1,5]",
    )
    parser.add_argument(
        "--delay-ms",
        type=_int_list(0, 5000),
        default=[0],
        help="comma list of courier delays (sandbox /_faults); one round each, e.g. 0,100 [0]",
    )
    parser.add_argument(
        "--delay-jitter-ms",
        type=bounded(int, 0, 5000),
        default=0,
        help="± around each nonzero delay, re-drawn every 100 ms (the sandbox has one delay for all calls) [0]",
    )
    parser.add_argument(
        "--poll-ms", type=bounded(int, 10, 5000), default=100, help="how often the lag watcher reads the courier [100]"
    )
    parser.add_argument(
        "--watch-rate",
        type=bounded(float, 1, 1000),
        default=40.0,
        help="at most this many courier reads per second by the lag watcher [40]",
    )
    parser.add_argument(
        "--drain-timeout",
        type=bounded(float, 1, 600),
        default=60.0,
        help="seconds after a load to wait for the courier to catch up [60]",
    )
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument(
        "--server-env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server, e.g. ORDERS_SQLITE_SYNCHRONOUS=NORMAL (repeatable)",
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args(argv)
    args.server_env = dict(args.server_env)
    if args.raw_creates is None:
        args.raw_creates = args.orders
    if args.pg_url and args.db != "postgres":
        parser.error("--pg-url goes with --db postgres")
    nonzero = [d for d in args.delay_ms if d]
    if args.delay_jitter_ms and not nonzero:
        parser.error("--delay-jitter-ms needs a nonzero --delay-ms")
    if args.delay_jitter_ms and args.delay_jitter_ms > min(nonzero):
        parser.error(f"--delay-jitter-ms ({args.delay_jitter_ms}) must not exceed the smallest delay ({min(nonzero)})")
    for burst in args.bursts:
        if args.amend_rate * args.amend_seconds < burst:
            parser.error(f"--amend-rate x --amend-seconds must allow at least one burst of {burst}")
    args.delay_ms_now = 0
    return args


async def run_cancellable(args: argparse.Namespace) -> int:
    """run(), cancelled on SIGTERM as on Ctrl-C, so that the server is stopped and the database dropped."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run(args)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run_cancellable(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the server was stopped", file=sys.stderr)
        return 130
