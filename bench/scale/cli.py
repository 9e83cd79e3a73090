"""Command line of scale_bench.py: the stack run behind the load balancer with faults, the embedded run, the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from benchlib.results import machine, versions, write_report
from benchlib.servers import BENCH_DIR, cli_path, free_port, run_command, running, server_env, wait_ready

from scale.balancer import Balancer
from scale.checks import check, wait_drained
from scale.faults import Faults, schedule
from scale.faults import sandbox_faults as sandbox_faults_at
from scale.options import parse_args, stack_config
from scale.report import markdown, per_op, plot
from scale.stack import Stack, StackConfig
from scale.workload import MIX, Workload


async def _credentials(env: dict[str, str]) -> tuple[str, tuple[str, str]]:
    """A staff API key and a dashboard user, through the CLI with the given settings."""
    out = await run_command([cli_path(), "keys", "create", "--name", "scale-bench", "--role", "staff"], env, BENCH_DIR)
    username, password = f"scale{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    await run_command([cli_path(), "users", "create", "--username", username, "--role", "staff",
                       "--password", password], env, BENCH_DIR)  # fmt: skip
    return out.strip().splitlines()[-1].strip(), (username, password)


async def _sample_outbox(base_url: str, samples: list[dict[str, float]], t0: float) -> None:
    """orders_outbox_depth and orders_outbox_oldest_age_seconds from /metrics, once a second."""
    async with httpx.AsyncClient(base_url=base_url, timeout=3) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                text = (await client.get("/metrics")).text
                values = {ln.split()[0]: float(ln.split()[1]) for ln in text.splitlines()
                          if ln.startswith(("orders_outbox_depth ", "orders_outbox_oldest_age_seconds "))}  # fmt: skip
                samples.append({"t": round(time.perf_counter() - t0, 2),
                                "depth": values.get("orders_outbox_depth", -1),
                                "oldest_age_s": values.get("orders_outbox_oldest_age_seconds", -1)})  # fmt: skip
            await asyncio.sleep(1)


async def _drive(workload: Workload, faults: Faults, args: argparse.Namespace, base_url: str, database_url: str,
                 store: Path) -> dict[str, Any]:  # fmt: skip
    await workload.login()
    t0 = time.perf_counter()
    samples: list[dict[str, float]] = []
    sampler = asyncio.create_task(_sample_outbox(base_url, samples, t0))
    try:
        await asyncio.gather(workload.run(args.seconds, args.rate, t0), faults.run(t0))
        drain = await wait_drained(database_url, args.drain_limit)
    finally:
        sampler.cancel()
        await workload.close()
    invariants = await check(workload, database_url, store)
    history = workload.history()
    return {
        "operations": per_op(history, args.seconds),
        "outbox": {**drain, "max_depth": max((s["depth"] for s in samples), default=None),
                   "max_oldest_age_s": max((s["oldest_age_s"] for s in samples), default=None), "samples": samples},
        "faults": [vars(f) for f in faults.faults],
        "invariants": invariants,
        "orders": len(workload.orders),
        "merges": len(workload.merges),
        "history": history,
    }  # fmt: skip


async def run_stack(args: argparse.Namespace, config: StackConfig) -> dict[str, Any]:
    """The balancer, deploy/stack.sh up behind it, the workload through it with the chosen faults, then down (and
    the servers the stack started, unless --keep-servers; with --pg-url/--redis-url, its database and queue)."""
    balancer = Balancer(config.api_ports, args.balancer_port)
    config.public_url = f"http://127.0.0.1:{await balancer.start()}"
    stack = Stack(config)
    try:
        print(await stack.run("up"))
        env = stack.settings()
        key, user = await _credentials(env)
        workload = Workload(config.public_url, key, config.sandbox_url, user)
        plan = schedule(args.seconds, args.faults, processes=True, api_port=config.api_ports[0])
        faults = Faults(plan, sandbox_faults_at(config.sandbox_url, env["ORDERS_SANDBOX_TOKEN"]), stack)
        store = Path(env["ORDERS_DATA_DIR"]) / "sandbox-courier.json"
        result = await _drive(workload, faults, args, config.public_url, env["DATABASE_URL"], store)
        return {**result, "balancer": balancer.report()}
    finally:
        with contextlib.suppress(Exception):
            print(await stack.run("down"))
        await balancer.close()
        if not args.keep_servers:
            await stack.stop_servers()
            await stack.forget()


async def run_embedded(args: argparse.Namespace) -> dict[str, Any]:
    """`orders-service serve` on SQLite in a temp folder (relay and sandbox in process), the courier outage only."""
    with tempfile.TemporaryDirectory(prefix="scale-embedded-") as tmp:
        data = Path(tmp)
        port = free_port()
        env = server_env(data, None, {"ORDERS_RELAY": "embedded", "ORDERS_LOG_LEVEL": "warning"}, "SCALE_BENCH_REEXEC")
        base = f"http://127.0.0.1:{port}"
        async with running([cli_path(), "serve", "--port", str(port)], env, data / "server.log", BENCH_DIR) as proc:
            async with httpx.AsyncClient(base_url=base) as probe:
                await wait_ready(proc, data / "server.log", lambda: probe.get("/health"))
            key, user = await _credentials(env)
            token = json.loads((data / "secrets.json").read_text())["sandbox_token"]
            workload = Workload(base, key, base + "/sandbox-courier", user)
            plan = schedule(args.seconds, args.faults, processes=False)
            faults = Faults(plan, sandbox_faults_at(base + "/sandbox-courier", token))
            url = f"sqlite+aiosqlite:///{data / 'orders.db'}"
            return await _drive(workload, faults, args, base, url, data / "sandbox-courier.json")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, (__doc__ or "").strip())
    config = stack_config(args)
    started = datetime.datetime.now(datetime.UTC)
    runs = {f"stack ({len(config.api_ports)} API, {config.workers} workers, PostgreSQL, Redis)":
            asyncio.run(run_stack(args, config))}  # fmt: skip
    if not args.skip_embedded:
        runs["embedded (serve, SQLite)"] = asyncio.run(run_embedded(args))
    table = markdown(runs)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    report = {
        "started": started.isoformat(),
        "parameters": {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "mix": MIX},
        "stack": {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()},
        "stack_dir": str(config.stack_dir), "machine": machine(), "runs": runs, "table": table,
        "versions": versions(["litestar", "sqlalchemy", "celery", "asyncpg", "httpx"]),
    }  # fmt: skip
    path = write_report(args.results, "scale", started, report)
    (args.results / f"scale-{stamp}.md").write_text(table + "\n")
    png = plot(runs, args.results / f"scale-{stamp}.png")
    print(table)
    print(f"results: {path}, {png}")
    held = all(r["held"] for run in runs.values() for r in run["invariants"].values())
    return 0 if held else 1
