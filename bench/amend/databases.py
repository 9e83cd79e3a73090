"""Per database: SQLite in a temporary directory, PostgreSQL in a fresh database."""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path
from typing import Any

from benchlib.postgres import asyncpg_dsn, database_url, fresh_database, shown_url
from benchlib.servers import (
    REPO,
    run_command,
    server_env,
)

from amend.http_modes import http_phase
from amend.load import LoadResult
from amend.raw import raw_postgres, raw_sqlite, sqlite_synchronous

REEXEC_VAR = "AMEND_BENCH_REEXEC"  # set by amend_bench.py when it re-runs itself with .venv/bin/python


def ratios(
    http: LoadResult, bare: LoadResult | None, raw: LoadResult | None, opened: LoadResult | None = None
) -> dict[str, float | None]:
    tail = opened.summary()["latency_ms"] if opened is not None else {}
    return {
        "http_over_bare": round(http.rate / bare.rate, 4) if bare and bare.rate else None,
        "http_over_raw_sql": round(http.rate / raw.rate, 4) if raw and raw.rate else None,
        "open_loop_rate": round(opened.rate, 1) if opened is not None else None,
        "open_loop_p99_over_p50": round(tail["p99"] / tail["p50"], 2) if tail.get("p50") and tail.get("p99") else None,
    }


async def bench_sqlite(args: argparse.Namespace, work: Path, bare: LoadResult | None) -> dict[str, Any]:
    data_dir = work / "sqlite-data"
    phase = await http_phase("sqlite", server_env(data_dir, None, args.server_env, REEXEC_VAR), work, args)
    raw = None if phase.replay is None else await raw_sqlite(data_dir / "orders.db", phase.orders, phase.replay, args)
    return {
        "database": f"{data_dir / 'orders.db'} (deleted after the run)",
        "sqlite_synchronous": sqlite_synchronous(args.server_env),
        "sql_check": phase.sql_check,
        "server": phase.server,
        "results": [phase.http, *([phase.open_loop] if phase.open_loop else []), *([raw] if raw is not None else [])],
        "ratios": ratios(phase.http, bare, raw, phase.open_loop),
    }


async def postgres_url(args: argparse.Namespace) -> tuple[str | None, str]:
    """The server's SQLAlchemy URL: --pg-url, else $PG, else deploy/postgres.sh start (idempotent)."""
    if args.pg_url:
        return args.pg_url, "--pg-url"
    if os.environ.get("PG"):
        return os.environ["PG"], "$PG"
    script = REPO / "deploy" / "postgres.sh"
    if not script.exists():
        return None, f"{script} not found"
    try:
        out = await run_command([str(script), "start"], dict(os.environ), REPO, limit_s=180)
    except RuntimeError as exc:
        return None, f"deploy/postgres.sh start failed: {exc}"
    lines = out.strip().splitlines()
    return (lines[-1].strip(), "deploy/postgres.sh start") if lines else (None, "deploy/postgres.sh printed nothing")


async def bench_postgres(args: argparse.Namespace, work: Path, bare: LoadResult | None, url: str) -> dict[str, Any]:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d_%H%M%S")
    name = f"bench_{stamp}_{os.getpid()}"
    async with fresh_database(url, name) as server_version:
        env = server_env(work / "pg-data", database_url(url, name), args.server_env, REEXEC_VAR)
        phase = await http_phase("postgres", env, work, args)
        dsn = asyncpg_dsn(url, name)
        raw = None if phase.replay is None else await raw_postgres(dsn, phase.orders, phase.replay, args)
    return {
        "database": f"{shown_url(url, name)} (dropped after the run)",
        "server_version": server_version,
        "sql_check": phase.sql_check,
        "server": phase.server,
        "results": [phase.http, *([phase.open_loop] if phase.open_loop else []), *([raw] if raw is not None else [])],
        "ratios": ratios(phase.http, bare, raw, phase.open_loop),
    }
