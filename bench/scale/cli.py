"""Command line of scale_bench.py: the stack run with faults, the embedded run, the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from benchlib.load import bounded
from benchlib.results import machine, versions, write_report
from benchlib.servers import BENCH_DIR, cli_path, free_port, run_command, running, server_env, wait_ready

from scale.checks import check, wait_drained
from scale.report import markdown, per_op, plot
from scale.stack import API_PORTS, SANDBOX_URL, STACK_DIR, Fault, StackFaults, schedule, stack, stack_env, stop_servers
from scale.workload import MIX, Workload

DRAIN_LIMIT_S = 180.0


async def _credentials(env: dict[str, str]) -> tuple[str, tuple[str, str]]:
    """A staff API key and a dashboard user, through the CLI with the given settings."""
    out = await run_command([cli_path(), "keys", "create", "--name", "scale-bench", "--role", "staff"], env, BENCH_DIR)
    username, password = f"scale{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    await run_command([cli_path(), "users", "create", "--username", username, "--role", "staff",
                       "--password", password], env, BENCH_DIR)  # fmt: skip
    return out.strip().splitlines()[-1].strip(), (username, password)


async def _sample_outbox(port: int, samples: list[dict[str, float]], t0: float) -> None:
    """orders_outbox_depth and orders_outbox_oldest_age_seconds from /metrics, once a second."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=3) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                text = (await client.get("/metrics")).text
                values = {ln.split()[0]: float(ln.split()[1]) for ln in text.splitlines()
                          if ln.startswith(("orders_outbox_depth ", "orders_outbox_oldest_age_seconds "))}  # fmt: skip
                samples.append({"t": round(time.perf_counter() - t0, 2),
                                "depth": values.get("orders_outbox_depth", -1),
                                "oldest_age_s": values.get("orders_outbox_oldest_age_seconds", -1)})  # fmt: skip
            await asyncio.sleep(1)


async def _drive(workload: Workload, faults: StackFaults | None, args: argparse.Namespace, metrics_port: int,
                 database_url: str, store: Path) -> dict[str, Any]:  # fmt: skip
    await workload.login()
    t0 = time.perf_counter()
    samples: list[dict[str, float]] = []
    sampler = asyncio.create_task(_sample_outbox(metrics_port, samples, t0))
    try:
        jobs = [workload.run(args.seconds, args.rate, t0)]
        if faults is not None:
            faults.t0 = t0
            jobs.append(faults.run())
        await asyncio.gather(*jobs)
        drain = await wait_drained(database_url, DRAIN_LIMIT_S)
    finally:
        sampler.cancel()
        await workload.close()
    invariants = await check(workload, database_url, store)
    history = workload.history()
    return {
        "operations": per_op(history, args.seconds),
        "outbox": {**drain, "max_depth": max((s["depth"] for s in samples), default=None),
                   "max_oldest_age_s": max((s["oldest_age_s"] for s in samples), default=None), "samples": samples},
        "faults": [vars(f) for f in (faults.faults if faults else [])],
        "invariants": invariants,
        "orders": len(workload.orders),
        "merges": len(workload.merges),
        "history": history,
    }  # fmt: skip


async def run_stack(args: argparse.Namespace) -> dict[str, Any]:
    """deploy/stack.sh up, the workload over both API ports with every fault, then down (and its servers)."""
    try:
        print(await stack("up"))
        env = stack_env()
        key, user = await _credentials(env)
        workload = Workload(API_PORTS, key, SANDBOX_URL, user)
        faults = StackFaults(schedule(args.seconds, processes=True), time.perf_counter())
        store = Path(env["ORDERS_DATA_DIR"]) / "sandbox-courier.json"
        return await _drive(workload, faults, args, API_PORTS[0], env["DATABASE_URL"], store)
    finally:
        with contextlib.suppress(Exception):
            print(await stack("down"))
        if not args.keep_servers:
            await stop_servers()


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

            async def sandbox_faults(body: dict[str, Any]) -> None:
                async with httpx.AsyncClient(base_url=base + "/sandbox-courier",
                                             headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
                    (await client.post("/_faults", json=body)).raise_for_status()

            workload = Workload([port], key, base + "/sandbox-courier", user)
            faults = StackFaults(schedule(args.seconds, processes=False), time.perf_counter(), sandbox_faults)
            url = f"sqlite+aiosqlite:///{data / 'orders.db'}"
            return await _drive(workload, faults, args, port, url, data / "sandbox-courier.json")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=bounded(float, 10, 3600), default=60, help="load duration per run (60)")
    parser.add_argument("--rate", type=bounded(float, 0.5, 200), default=10, help="operations started per second (10)")
    parser.add_argument("--skip-embedded", action="store_true", help="only the stack run")
    parser.add_argument("--keep-servers", action="store_true", help="leave the stack's PostgreSQL and Redis running")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    runs = {"stack (2 API, 2 workers, PostgreSQL, Redis)": asyncio.run(run_stack(args))}
    if not args.skip_embedded:
        runs["embedded (serve, SQLite)"] = asyncio.run(run_embedded(args))
    table = markdown(runs)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    report = {
        "started": started.isoformat(), "parameters": {**vars(args), "results": str(args.results), "mix": MIX},
        "stack_dir": str(STACK_DIR), "versions": versions(["litestar", "sqlalchemy", "celery", "asyncpg", "httpx"]),
        "machine": machine(), "runs": runs, "table": table,
    }  # fmt: skip
    path = write_report(args.results, "scale", started, report)
    (args.results / f"scale-{stamp}.md").write_text(table + "\n")
    png = plot(runs, args.results / f"scale-{stamp}.png")
    print(table)
    print(f"results: {path}, {png}")
    held = all(r["held"] for run in runs.values() for r in run["invariants"].values())
    return 0 if held else 1


__all__ = ["Fault", "main"]
