"""Amendments (and new orders) for 60 s while PostgreSQL connections are terminated: is every 2xx kept?

One run starts ``orders-service serve`` (a subprocess, the embedded relay on) on a fresh PostgreSQL database,
makes a staff key with the CLI, and runs bench/dbfault/workload.py against it over HTTP: ``--amenders``
clients rename their own orders one after the other (If-Match from the last answer), ``--creators`` clients
create orders, and two killers run beside them: every ``--kill-every`` seconds every other connection of the
database is terminated (``pg_terminate_backend``, the query of issue 15), and every ``--writers-every``
seconds (0: never) each connection whose transaction wrote, then read, and waits for its client (the moment
before COMMIT, most often) is terminated too. Afterwards it reads back every change answered 2xx: the
amendment answered with ETag version V must be the order's event of version V, with the name it set; a
created order must exist. It prints requests, 2xx, 503s, other statuses and "lost 2xx" (must be 0), and
writes bench/results/db-fault-<ts>.json. Exit status 1 if a 2xx was lost or a 500 answered.

    .venv/bin/python bench/db_fault_bench.py [--duration 60] [--kill-every 1] [--writers-every 0.005]
        [--amenders 8] [--creators 1] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

try:
    import httpx
    from benchlib.postgres import asyncpg_dsn, database_url, fresh_database, shown_url
    from benchlib.results import machine, versions, write_report
    from benchlib.servers import BENCH_DIR, REPO, cli_path, create_key, free_port, running, server_env, wait_ready
    from dbfault import workload
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("DB_FAULT_BENCH_REEXEC"):
        os.environ["DB_FAULT_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

REEXEC = "DB_FAULT_BENCH_REEXEC"


async def run(args: argparse.Namespace, pg_url: str) -> int:
    started = datetime.datetime.now(datetime.UTC)
    name = f"orders_dbfault_{uuid.uuid4().hex[:8]}"
    async with fresh_database(pg_url, name) as server_version:
        with tempfile.TemporaryDirectory(prefix="db-fault-") as tmp:
            work = Path(tmp)
            env = server_env(work / "data", database_url(pg_url, name), dict(args.server_env), REEXEC)
            port = free_port()
            log = work / "server.log"
            argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            async with running(argv, env, log, work) as server:
                base = f"http://127.0.0.1:{port}"
                async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
                    await wait_ready(server, log, lambda: probe.get("/health"))
                key = await create_key(env, work)
                headers = {"Authorization": f"Bearer {key}"}
                limits = httpx.Limits(max_connections=args.amenders + args.creators + 4)
                async with httpx.AsyncClient(base_url=base, headers=headers, timeout=15, limits=limits) as client:
                    ledger = await workload.run(
                        client,
                        asyncpg_dsn(pg_url, name),
                        duration_s=args.duration,
                        kill_every_s=args.kill_every,
                        writers_every_s=args.writers_every or None,
                        amenders=args.amenders,
                        creators=args.creators,
                    )
                    lost = await workload.lost(client, ledger)
                server_log = log.read_text(errors="replace")
    print(f"database: {shown_url(pg_url, name)} (PostgreSQL {server_version})")
    print(workload.summary(ledger, len(lost)))
    for ack, found in lost[:20]:
        print(f"  lost: {ack} -> {found}")
    report = {
        "started": started.isoformat(),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "pg_url"},
        "requests": ledger.requests,
        "ok_2xx": ledger.ok,
        "unavailable_503": ledger.unavailable,
        "other_statuses": {str(k): v for k, v in ledger.others().items()},
        "transport_errors": ledger.transport_errors,
        "connections_terminated": ledger.kills,
        "kill_all_rounds": ledger.rounds,
        "lost_2xx": len(lost),
        "lost": [f"{ack} -> {found}" for ack, found in lost],
        "server_commit_failures_logged": server_log.count("commit failed on"),
        "machine": machine(),
        "versions": versions(["litestar", "sqlalchemy", "asyncpg", "advanced-alchemy", "uvicorn"]),
    }
    path = write_report(args.results_dir, "db-fault", started, report)
    print(f"report: {path}")
    return 1 if lost or 500 in ledger.statuses else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load and faults [60]")
    parser.add_argument("--kill-every", type=float, default=1.0, help="terminate every connection every S s [1]")
    parser.add_argument(
        "--writers-every", type=float, default=0.005, help="terminate writers waiting for COMMIT every S s; 0: off"
    )
    parser.add_argument("--amenders", type=int, default=8, help="concurrent amending clients [8]")
    parser.add_argument("--creators", type=int, default=1, help="concurrent clients creating orders [1]")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        type=lambda text: tuple(text.split("=", 1)),
        help="NAME=VALUE for the server, repeatable",
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args()
    if not 1 <= args.duration <= 3600 or args.kill_every <= 0 or args.amenders < 1 or args.creators < 0:
        parser.error("--duration 1..3600, --kill-every > 0, --amenders >= 1, --creators >= 0")
    pg_url = (
        args.pg_url
        or os.environ.get("PG")
        or subprocess.run(
            [str(REPO / "deploy" / "postgres.sh"), "start"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    sys.exit(asyncio.run(run(args, pg_url)))


if __name__ == "__main__":
    main()
