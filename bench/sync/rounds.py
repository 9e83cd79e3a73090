"""One run: the server, one round per courier delay, on SQLite or a fresh PostgreSQL database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
from pathlib import Path
from typing import Any

import httpx
from benchlib.load import unique_phones
from benchlib.postgres import asyncpg_dsn, database_url, fresh_database, shown_url
from benchlib.servers import (
    REPO,
    REQUEST_TIMEOUT,
    cli_path,
    create_key,
    free_port,
    run_command,
    running,
    server_env,
    wait_ready,
)

from sync.creates import raw_creates, ship_and_sync
from sync.lag import amendment_lag, jitter_delay
from sync.logs import read_server_log
from sync.outbox import OutboxReader
from sync.service import SANDBOX, Sandbox, create_body, create_confirmed_orders

REEXEC_VAR = "SYNC_BENCH_REEXEC"  # set by sync_bench.py when it re-runs itself with .venv/bin/python


async def one_round(
    api: httpx.AsyncClient,
    sandbox: Sandbox,
    base_url: str,
    outbox: OutboxReader,
    phones: list[str],
    delay_ms: int,
    args: argparse.Namespace,
    pid: int,
    log: Path,
) -> dict[str, Any]:
    tag = f"d{delay_ms}"
    result: dict[str, Any] = {"delay_ms": delay_ms, "delay_jitter_ms": args.delay_jitter_ms if delay_ms else 0}
    print(f"  [{tag}] creating and confirming {len(phones)} orders (setup) ...", flush=True)
    orders = await create_confirmed_orders(api, phones)
    if not await outbox.wait_idle(60):
        print(f"  [{tag}] WARNING: the outbox still had unprocessed rows 60 s after setup", flush=True)
    _, log_offset = read_server_log(log)
    args.delay_ms_now = delay_ms
    stop = asyncio.Event()
    jitter: asyncio.Task[None] | None = None
    try:
        await sandbox.set_delay(delay_ms)
        if delay_ms and args.delay_jitter_ms:
            jitter = asyncio.create_task(jitter_delay(sandbox, delay_ms, args.delay_jitter_ms, stop))
        print(
            f"  [{tag}] shipping {len(orders)} orders at once, waiting until every shipment is synced ...", flush=True
        )
        result["relay"] = await ship_and_sync(api, sandbox, orders, args, pid)
        await outbox.wait_idle(30)  # the last settle: the raw baseline runs against an idle relay
        template_view = next((o for o in orders if o.tracking), None)
        result["raw"] = []
        if template_view is not None:
            template = create_body(await sandbox.shipment(template_view.tracking or ""), "template")
            for concurrency in args.raw_concurrency:
                print(f"  [{tag}] raw POST {SANDBOX}/shipments x{args.raw_creates}, concurrency {concurrency} ...",
                      flush=True)  # fmt: skip
                result["raw"].append(
                    await raw_creates(
                        base_url, sandbox, template, args.raw_creates, concurrency, f"RAW-{tag}-C{concurrency}", pid
                    )
                )
        relay_rate = result["relay"]["creates_per_s"]
        result["ratios"] = {
            f"sync_over_raw_c{r['concurrency']}": round(relay_rate / r["creates_per_s"], 4)
            if relay_rate and r["creates_per_s"]
            else None
            for r in result["raw"]
        }
        shipped = [o for o in orders if o.tracking is not None]
        result["lag"] = []
        if shipped:
            for burst in args.bursts:
                kind = "single edits" if burst == 1 else f"bursts of {burst}"
                print(f"  [{tag}] amendments {args.amend_rate:g}/s for {args.amend_seconds:g} s ({kind}) ...",
                      flush=True)  # fmt: skip
                result["lag"].append(
                    await amendment_lag(api, sandbox, outbox, shipped, burst, f"{tag}b{burst}", args, pid)
                )
    finally:
        stop.set()
        if jitter is not None:
            await jitter
        with contextlib.suppress(httpx.HTTPError):
            await sandbox.set_delay(0)
    result["outbox_after"] = await outbox.stats()
    result["server_log"], _ = read_server_log(log, log_offset)
    return result


async def run_server_rounds(
    args: argparse.Namespace, work: Path, env: dict[str, str], outbox: OutboxReader, data_dir: Path
) -> dict[str, Any]:
    port = free_port()
    log = work / "server.log"
    base_url = f"http://127.0.0.1:{port}"
    argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    rounds: list[dict[str, Any]] = []
    all_phones = unique_phones(args.orders * len(args.delay_ms))
    async with running(argv, env, log, work) as server:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as probe:
            await wait_ready(server, log, lambda: probe.get("/health"))
        key = await create_key(env, work)
        token = json.loads((data_dir / "secrets.json").read_text())["sandbox_token"]
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        sandbox = Sandbox(base_url, token)
        try:
            async with httpx.AsyncClient(
                base_url=base_url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=REQUEST_TIMEOUT
            ) as api:
                for n, delay_ms in enumerate(args.delay_ms):
                    phones = all_phones[n * args.orders : (n + 1) * args.orders]
                    rounds.append(
                        await one_round(api, sandbox, base_url, outbox, phones, delay_ms, args, server.pid, log)
                    )
        finally:
            await sandbox.aclose()
        whole_log, _ = read_server_log(log)
    return {"rounds": rounds, "server_log": whole_log}


async def postgres_url(args: argparse.Namespace) -> str:
    if args.pg_url:
        return str(args.pg_url)
    if os.environ.get("PG"):
        return os.environ["PG"]
    script = REPO / "deploy" / "postgres.sh"
    if not script.exists():
        raise RuntimeError(f"{script} not found; pass --pg-url")
    out = await run_command([str(script), "start"], dict(os.environ), REPO, limit_s=180)
    lines = out.strip().splitlines()
    if not lines:
        raise RuntimeError("deploy/postgres.sh start printed nothing")
    return lines[-1].strip()


async def run_database(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data_dir = work / "data"
    if args.db == "sqlite":
        env = server_env(data_dir, None, args.server_env, REEXEC_VAR)
        result = await run_server_rounds(args, work, env, OutboxReader(sqlite_path=data_dir / "orders.db"), data_dir)
        result["database"] = "sqlite (a fresh file, deleted after the run)"
        return result
    url = await postgres_url(args)
    name = f"syncbench_{datetime.datetime.now(datetime.UTC):%Y%m%d_%H%M%S}_{os.getpid()}"
    async with fresh_database(url, name) as server_version:
        env = server_env(data_dir, database_url(url, name), args.server_env, REEXEC_VAR)
        result = await run_server_rounds(args, work, env, OutboxReader(pg_dsn=asyncpg_dsn(url, name)), data_dir)
    result["database"] = f"{shown_url(url, name)} (dropped after the run)"
    result["postgres_server_version"] = server_version
    return result
