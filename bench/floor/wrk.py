"""The loads, all from wrk with one connection per thread (-t C -c C), the server's CPU read from /proc around
each measured run: probe.lua for the probes (the same POST per connection, every answer checked), and
bench/amend/amend.lua (through amend.wrk) for the real amendment, which must send each order's current If-Match.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from amend.domain import BenchOrder
from amend.load import LoadResult, amendment_body
from amend.wrk import run_wrk, wrk_load, wrk_path
from benchlib.cpu import cpu_sample, cpu_use
from benchlib.servers import REQUEST_TIMEOUT

LUA = Path(__file__).resolve().parent / "probe.lua"
RESULT = "PROBE_RESULT "


def write_requests(path: Path, paths: list[str], orders: list[BenchOrder]) -> None:
    """probe.lua's requests file: connection i posts paths[i] with an amendment of orders[i]'s line."""
    lines = (f"{p} {amendment_body(o, o.next_quantity()).decode()}\n" for p, o in zip(paths, orders, strict=True))
    path.write_text("".join(lines))


async def _wrk(base_url: str, requests_file: Path, key: str, seconds: float, connections: int) -> dict[str, object]:
    argv = [
        wrk_path(), "-t", str(connections), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
        "--timeout", f"{REQUEST_TIMEOUT:g}s", "-s", str(LUA), base_url, "--", str(requests_file), key,
    ]  # fmt: skip
    return await run_wrk(argv, seconds, RESULT)


async def probe_load(
    probe: str, db: str | None, base_url: str, requests_file: Path, key: str, args: argparse.Namespace, pid: int
) -> LoadResult:
    """A warm-up run (--warmup, none if 0), then the measured run with the server's CPU sampled around it."""
    if args.warmup > 0:
        await _wrk(base_url, requests_file, key, args.warmup, args.connections)
    before = cpu_sample(pid)
    found = await _wrk(base_url, requests_file, key, args.duration, args.connections)
    cpu = cpu_use(before, cpu_sample(pid), server_seconds=True)
    errors: Counter[str] = Counter()
    if found["failed"]:
        errors["HTTP not 200"] = int(str(found["failed"]))
    if found["socket_errors"]:
        errors["socket errors (connect, read, write, timeout)"] = int(str(found["socket_errors"]))
    samples = [line[:300] for line in str(found["stderr"]).splitlines() if "answered" in line][:5]
    latency = {name: round(float(str(found[f"{name}_us"])) / 1000, 3) for name in ("p50", "p90", "p99", "max", "mean")}
    seconds = float(str(found["duration_us"])) / 1e6
    return LoadResult(probe, db, int(str(found["ok"])), seconds, [], errors, samples, cpu, latency=latency)


async def amend_load(
    db: str,
    base_url: str,
    key: str,
    orders: list[BenchOrder],
    args: argparse.Namespace,
    work: Path,
    pid: int,
    resync: Callable[[list[BenchOrder]], Awaitable[None]],
) -> LoadResult:
    """The real amendment through amend.wrk (amend.lua: If-Match from the last ETag), one order per connection;
    `resync` reads the orders' versions back after the warm-up."""
    amend_args = argparse.Namespace(warmup=args.warmup, duration=args.duration, concurrency=args.connections)
    return await wrk_load("amend", db, base_url, key, orders, amend_args, work, pid, resync)
