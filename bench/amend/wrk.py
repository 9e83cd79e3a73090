"""The load from wrk (a C client, so the client is not the bottleneck): amend.lua sends the current If-Match.

wrk runs one connection per thread (-t C -c C): each thread has one request in flight, owns its orders and
knows which order an answer is for (amend.lua). The bench reads amend.lua's result line, and the orders'
versions afterwards (from the server, since a request in flight when wrk stopped may have been committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchlib.cpu import cpu_sample, cpu_use
from benchlib.servers import REQUEST_TIMEOUT

from amend.domain import BenchOrder
from amend.load import LoadResult

LUA = Path(__file__).resolve().parent / "amend.lua"
RESULT = "AMEND_RESULT "


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk not found: install it (apt-get install wrk), or pass --client httpx")
    return found


def _write_orders(path: Path, orders: list[BenchOrder]) -> None:
    path.write_text("".join(f"{o.id} {o.line_id} {o.version} {o.quantity}\n" for o in orders))


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _wrk(
    base_url: str, key: str, orders: list[BenchOrder], seconds: float, concurrency: int, prefix: str, work: Path
) -> dict[str, float]:
    orders_file, state_file = work / "wrk-orders.txt", work / "wrk-state.txt"
    _write_orders(orders_file, orders)
    argv = [
        wrk_path(), "-t", str(concurrency), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
        "--timeout", f"{REQUEST_TIMEOUT:g}s", "-s", str(LUA), base_url, "--",
        str(orders_file), str(state_file), key, str(concurrency), prefix,
    ]  # fmt: skip
    return await run_wrk(argv, seconds, RESULT)


async def run_wrk(argv: list[str], seconds: float, result: str) -> dict[str, object]:
    """Run wrk (argv) for about `seconds`, bounded; the JSON its script printed after `result` on its last such line,
    with the tail of its stderr. Also used by bench/floor."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=seconds + REQUEST_TIMEOUT + 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines = [line for line in out.decode().splitlines() if line.startswith(result)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode(errors='replace')[-1500:]}")
    return dict(json.loads(lines[-1][len(result) :]), stderr=err.decode(errors="replace")[-1500:])


async def wrk_load(
    mode: str,
    db: str | None,
    base_url: str,
    key: str,
    orders: list[BenchOrder],
    args: argparse.Namespace,
    work: Path,
    server_pid: int,
    resync: Callable[[list[BenchOrder]], Awaitable[None]] | None,
    prefix: str = "/api/orders",
) -> LoadResult:
    """A warm-up run, the orders read back (`resync`), then the measured run with CPU sampled around it."""
    if args.warmup > 0:
        await _wrk(base_url, key, orders, args.warmup, args.concurrency, prefix, work)
    if resync is not None:
        await resync(orders)
    before, client_before = cpu_sample(server_pid), _children_cpu_s()
    started = time.perf_counter()
    found = await _wrk(base_url, key, orders, args.duration, args.concurrency, prefix, work)
    wall = time.perf_counter() - started
    after, client_after = cpu_sample(server_pid), _children_cpu_s()
    cpu = cpu_use(before, after, server_seconds=True)
    cpu["client_process_pct"] = round(100 * (client_after - client_before) / wall, 1)
    errors: Counter[str] = Counter()
    if found["failed"]:
        errors["HTTP not 200"] = int(found["failed"])
    if found["socket_errors"]:
        errors["socket errors (connect, read, write, timeout)"] = int(found["socket_errors"])
    samples = [line[:300] for line in str(found["stderr"]).splitlines() if "answered" in line][:5]
    latency = {name: round(found[f"{name}_us"] / 1000, 3) for name in ("p50", "p90", "p99", "max", "mean")}
    return LoadResult(mode, db, int(found["ok"]), found["duration_us"] / 1e6, [], errors, samples, cpu, latency=latency)
