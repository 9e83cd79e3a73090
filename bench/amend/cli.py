"""One run (all modes, every database, the JSON file) and the command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchlib.cpu import background_cpu
from benchlib.load import bounded
from benchlib.postgres import check_connection
from benchlib.results import machine, versions, write_report
from benchlib.servers import (
    BENCH_DIR,
    REQUEST_TIMEOUT,
)

from amend.databases import bench_postgres, bench_sqlite, postgres_url
from amend.http_modes import bare_phase
from amend.load import LoadResult
from amend.report import PACKAGES, idle_modes, render_ratios, render_table

DATABASES = ("sqlite", "postgres")


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {
        "benchmark": "amend_bench",
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": versions(PACKAGES),
        "machine": machine(),
        "parameters": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "orders": args.orders,
            "databases": args.db,
            "request_timeout_s": REQUEST_TIMEOUT,
            "server_env": args.server_env,
            "client": f"wrk -t {args.concurrency} -c {args.concurrency} -s bench/amend/amend.lua"
            if args.client == "wrk"
            else f"httpx.AsyncClient, {args.clients} ({args.concurrency} workers), in the bench process",
            "server": "uvicorn, 1 process, access_log=False, log_level=info (as `orders-service serve`)",
        },
        "bare": None,
        "databases": {},
    }
    failed = False
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="amend-bench-") as tmp:
        work = Path(tmp)
        client = "wrk" if args.client == "wrk" else f"{args.clients} httpx client"
        print(f"amend_bench: {args.duration:g} s per mode (+{args.warmup:g} s warm-up), concurrency "
              f"{args.concurrency} ({client}), {args.orders} orders, databases "
              f"{', '.join(args.db)}", flush=True)  # fmt: skip
        background = await background_cpu()
        report["machine"]["background_system_pct"] = background
        if background is not None and background > 15:
            print(f"  WARNING: the machine is already {background:.0f}% busy before the bench starts (other "
                  "processes); every figure below shares the CPUs with them", flush=True)  # fmt: skip
        bare: LoadResult | None = None
        try:
            bare = await bare_phase(args, work)
            rows.append(bare.summary())
            report["bare"] = bare.summary()
        except Exception as exc:
            failed = True
            report["bare"] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"  bare: FAILED: {exc}", flush=True)
        for db in args.db:
            section: dict[str, Any]
            try:
                if db == "sqlite":
                    section = await bench_sqlite(args, work / "sqlite", bare)
                else:
                    url, source = await postgres_url(args)
                    if url is None:
                        print(f"  postgres: SKIPPED, PostgreSQL could not be started: {source}", flush=True)
                        report["databases"][db] = {"skipped": f"PostgreSQL could not be started: {source}"}
                        continue
                    try:
                        await asyncio.wait_for(check_connection(url), timeout=15)
                    except Exception as exc:
                        print(f"  postgres: SKIPPED, cannot connect to {source} URL: {exc}", flush=True)
                        report["databases"][db] = {"skipped": f"cannot connect ({source}): {exc}"}
                        continue
                    section = await bench_postgres(args, work / "postgres", bare, url)
                    report["versions"]["postgres"] = section["server_version"]
            except Exception as exc:
                failed = True
                print(f"  {db}: FAILED: {type(exc).__name__}: {exc}", flush=True)
                report["databases"][db] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
                continue
            if section["sql_check"].get("error"):
                failed = True
            section["results"] = [r.summary() for r in section["results"]]
            rows.extend(section["results"])
            report["databases"][db] = section
    report["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print()
    print(render_table(rows))
    print()
    print(render_ratios(report))
    for mode in idle_modes(rows):
        failed = True
        print(f"FAILED: {mode} completed no amendment: its figures and every ratio against it mean nothing")
    path = write_report(args.results_dir, "amend", started, report)
    print(f"\nwrote {path}")
    return 1 if failed else 0


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if name in ("ORDERS_DATA_DIR", "DATABASE_URL"):
        raise argparse.ArgumentTypeError(f"{name} is set by the bench (a fresh database per run)")
    return name.strip(), value


def _databases(text: str) -> list[str]:
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in chosen if name not in DATABASES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown database {', '.join(map(repr, unknown)) or '(none)'}; give a comma list of {', '.join(DATABASES)}"
        )
    return list(dict.fromkeys(chosen))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="amend_bench.py",
        description="Amendments/s through HTTP vs a bare Litestar route vs the same SQL through the driver, "
        "on SQLite and PostgreSQL. Writes bench/results/amend-<timestamp>.json.",
    )
    parser.add_argument(
        "--duration", type=bounded(float, 0.5, 120), default=10.0, help="seconds measured per mode [10]"
    )
    parser.add_argument("--warmup", type=bounded(float, 0, 30), default=1.0, help="unmeasured seconds before each [1]")
    parser.add_argument("--concurrency", type=bounded(int, 1, 256), default=16, help="concurrent requests [16]")
    parser.add_argument(
        "--orders", type=bounded(int, 1, 10_000), default=200, help="orders to create per database [200]"
    )
    parser.add_argument(
        "--open-loop",
        type=bounded(float, 0, 2),
        default=0.5,
        help="after the closed loop, amendments at this fraction of its rate, at fixed arrival times (open loop); "
        "0: none [0.5]",
    )
    parser.add_argument("--db", type=_databases, default=list(DATABASES), help="comma list of sqlite,postgres [both]")
    parser.add_argument(
        "--clients",
        choices=("shared", "per-worker"),
        default="shared",
        help="one pooled httpx.AsyncClient for all workers, or one each [shared]",
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "httpx"),
        default="wrk",
        help="load client for the bare and HTTP modes: wrk with bench/amend/amend.lua, or httpx in this process [wrk]",
    )
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument(
        "--server-env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server, e.g. ORDERS_RELAY=off (repeatable)",
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args(argv)
    args.server_env = dict(args.server_env)
    if args.client == "wrk":
        from amend.wrk import wrk_path

        wrk_path()  # fails now, with how to install it, rather than after the setup
    if args.orders < args.concurrency:
        parser.error(f"--orders ({args.orders}) must be at least --concurrency ({args.concurrency}): "
                     "each worker owns its own orders")  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
