"""The command line: which scenarios, couriers and databases; a table per run, a JSON file, the exit status."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchlib.postgres import database_url, fresh_database
from benchlib.results import machine, versions, write_report
from benchlib.servers import BENCH_DIR

from courier_faults.scenarios import SCENARIOS, Options
from courier_faults.stand import COURIERS, stand

PACKAGES = ("httpx", "litestar", "sqlalchemy")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Courier faults against the GHN and GHTK fakes (bench/README.md)")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="repeatable; default: all")
    parser.add_argument("--courier", default="ghn,ghtk", help="comma list of the couriers to break")
    parser.add_argument("--db", default="sqlite", help="comma list: sqlite, postgres")
    parser.add_argument("--pg-url", default=os.environ.get("PG") or os.environ.get("ORDERS_TEST_PG_URL"))
    parser.add_argument("--runs", type=int, default=2, help="runs of each scenario per courier and database")
    parser.add_argument("--timeout-s", type=float, default=2.0, help="the adapters' whole-call timeout")
    parser.add_argument("--fault-s", type=float, default=10.0, help="how long each fault lasts")
    parser.add_argument("--others", type=int, default=6, help="item 1: orders shipped during the fault")
    parser.add_argument(
        "--orders", type=int, default=6, help="items 2 and 4: orders per run; item 5: rounds of changes"
    )
    parser.add_argument("--reconcile-s", type=float, default=1.0, help="ORDERS_RECONCILE_S for item 4")
    parser.add_argument("--backoff-s", type=float, default=1.0, help="ORDERS_RELAY_BACKOFF_S (the service's default)")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    args.scenario = args.scenario or sorted(SCENARIOS)
    args.courier = [c for c in args.courier.split(",") if c]
    args.db = [d for d in args.db.split(",") if d]
    if not set(args.courier) <= set(COURIERS) or not set(args.db) <= {"sqlite", "postgres"}:
        parser.error("--courier takes ghn, ghtk; --db takes sqlite, postgres")
    if "postgres" in args.db and not args.pg_url:
        parser.error("--db postgres needs --pg-url (or $PG)")
    return args


def service_env(args: argparse.Namespace, scenario: str) -> dict[str, str]:
    # A lease renewal longer than the courier timeout, as settings.check_timing wants.
    renew = max(1.0, args.timeout_s * 1.5)
    # Reconciliation only where the scenario is about it: elsewhere a pass would read a parcel the fault moved
    # without its webhook (item 2) and change the path the scenario measures.
    reconcile = args.reconcile_s if SCENARIOS[scenario].reconcile else 0
    return {
        "ORDERS_RECONCILE_S": str(reconcile),
        "ORDERS_COURIER_TIMEOUT_S": str(args.timeout_s),
        "ORDERS_SANDBOX_TIMEOUT_S": str(args.timeout_s),
        "ORDERS_LEASE_RENEW_S": str(renew),
        "ORDERS_RELAY_LEASE_S": str(3 * renew),
        "ORDERS_SYNC_LEASE_S": str(3 * renew),
        "ORDERS_RELAY_BACKOFF_S": str(args.backoff_s),
    }


async def one_run(args: argparse.Namespace, scenario: str, courier: str, db: str, run: int) -> dict[str, Any]:
    options = Options(
        args.timeout_s,
        args.fault_s,
        args.others,
        recover_within_s=60.0,
        orders=args.orders,
        reconcile_s=args.reconcile_s,
    )
    env = service_env(args, scenario)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="courier-faults-") as folder:
        if db == "postgres":
            name = f"bench_faults_{uuid.uuid4().hex[:10]}"
            async with fresh_database(args.pg_url, name):
                env["DATABASE_URL"] = database_url(args.pg_url, name)
                async with stand(env, Path(folder), args.timeout_s) as made:
                    result = await SCENARIOS[scenario].run(made, courier, options)
        else:
            async with stand(env, Path(folder), args.timeout_s) as made:
                result = await SCENARIOS[scenario].run(made, courier, options)
    return {
        "scenario": scenario,
        "item": SCENARIOS[scenario].item,
        "courier": courier,
        "db": db,
        "run": run,
        "ok": result.ok,
        "seconds": round(time.monotonic() - started, 1),
        "checks": [{"what": w, "held": h, "detail": d} for w, h, d in result.checks],
        "figures": result.figures,
    }


def show(row: dict[str, Any]) -> None:
    head = f"{row['scenario']} (item {row['item']}) {row['courier']} on {row['db']}, run {row['run']}"
    print(f"\n{head}: {'OK' if row['ok'] else 'FAILED'} in {row['seconds']} s")
    for check in row["checks"]:
        mark = "ok  " if check["held"] else "FAIL"
        print(f"  {mark} {check['what']}" + (f" ({check['detail']})" if check["detail"] else ""))
    print("  " + ", ".join(f"{k}={v}" for k, v in row["figures"].items()))


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    rows = []
    for db in args.db:
        for scenario in args.scenario:
            for courier in (c for c in args.courier if c in SCENARIOS[scenario].couriers):
                for number in range(1, args.runs + 1):
                    row = await one_run(args, scenario, courier, db, number)
                    show(row)
                    rows.append(row)
    report = {
        "benchmark": "courier_fault_bench",
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": versions(PACKAGES),
        "machine": machine(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "pg_url"},
        "runs": rows,
    }
    path = write_report(args.results_dir, "courier-faults", started, report)
    failed = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} runs held every check; results in {path}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    # Request lines, the relay's retries, migrations and customer messages: the report says what matters shorter.
    for noisy in ("httpx", "orders_service", "alembic", "notifications"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return asyncio.run(run(parse(argv)))
