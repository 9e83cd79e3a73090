"""Load driver (closed loop, fixed concurrency, warm-up, then a measured window) and the HTTP clients."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
from benchlib.cpu import CpuSample, cpu_sample, cpu_use
from benchlib.results import percentile
from benchlib.servers import (
    REQUEST_TIMEOUT,
)

from amend.domain import BenchOrder, StepError


@dataclass
class LoadResult:
    mode: str
    db: str | None
    ok: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: Counter[str]
    error_samples: list[str]
    cpu: dict[str, float | None]
    latency: dict[str, float] | None = None  # percentiles as the client (wrk) reported them, in ms

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def cpu_ms_per_amendment(self) -> float | None:
        """The server's CPU per successful amendment; in the raw-SQL mode (no server) the bench process's."""
        seconds = self.cpu.get("server_cpu_s")
        if seconds is None and self.cpu.get("bench_process_pct") is not None and self.mode == "raw-sql":
            seconds = (self.cpu["bench_process_pct"] or 0) * self.seconds / 100
        return round(1000 * seconds / self.ok, 3) if seconds is not None and self.ok else None

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        latency = self.latency or {
            "p50": percentile(ordered, 50),
            "p90": percentile(ordered, 90),
            "p99": percentile(ordered, 99),
            "p99_9": percentile(ordered, 99.9),
            "max": round(ordered[-1], 3) if ordered else None,
            "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
        }
        return {
            "mode": self.mode,
            "db": self.db,
            "amendments_per_s": round(self.rate, 1),
            "ok": self.ok,
            "errors": dict(self.errors),
            "error_count": sum(self.errors.values()),
            "error_samples": self.error_samples,
            "measured_seconds": round(self.seconds, 3),
            "latency_ms": latency,
            "cpu": self.cpu,
            "cpu_ms_per_amendment": self.cpu_ms_per_amendment(),
        }


Step = Callable[[int, BenchOrder], Awaitable[None]]


async def run_load(
    mode: str,
    db: str | None,
    step: Step,
    owned: list[list[BenchOrder]],
    duration: float,
    warmup: float,
    server_pid: int | None = None,
) -> LoadResult:
    """Each worker amends its own orders round-robin; completions inside the window count."""
    ok, errors = 0, Counter[str]()
    latencies: list[float] = []
    samples: list[str] = []
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + duration
    cpu: list[CpuSample] = []

    async def worker(index: int) -> None:
        nonlocal ok
        orders, turn = owned[index], 0
        while (began := time.perf_counter()) < window_end:
            order = orders[turn % len(orders)]
            turn += 1
            failure = None
            try:
                await step(index, order)
            except StepError as exc:
                failure = exc.label
                if exc.detail and len(samples) < 5:
                    samples.append(f"{exc.label}: {exc.detail}"[:300])
            except Exception as exc:
                failure = type(exc).__name__
                if len(samples) < 5:
                    samples.append(f"{type(exc).__name__}: {exc}"[:300])
            ended = time.perf_counter()
            if window_start <= ended <= window_end:
                if failure is None:
                    ok += 1
                    latencies.append((ended - began) * 1000)
                else:
                    errors[failure] += 1

    async def sampler() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        cpu.append(cpu_sample(server_pid))
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        cpu.append(cpu_sample(server_pid))

    tasks = [asyncio.create_task(worker(i)) for i in range(len(owned))]
    tasks.append(asyncio.create_task(sampler()))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=warmup + duration + REQUEST_TIMEOUT + 10)
    except TimeoutError:
        errors["stuck at the end (cancelled)"] += 1
    usage = cpu_use(cpu[0], cpu[1], server_seconds=True) if len(cpu) == 2 else {}
    return LoadResult(mode, db, ok, duration, latencies, errors, samples, usage)


def split_orders(orders: list[BenchOrder], concurrency: int) -> list[list[BenchOrder]]:
    """Worker i owns orders i, i+C, i+2C, ... (so two workers never amend the same order)."""
    return [orders[i::concurrency] for i in range(concurrency)]


def make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\b.*")


def server_exceptions(log: Path) -> dict[str, Any]:
    """The exception lines of a server log (the last line of each traceback), counted."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return {}
    found = Counter(m[0][:300] for line in text.splitlines() if (m := _EXCEPTION_LINE.match(line)))
    return {"server_exceptions": dict(found.most_common(10))} if found else {}


def http_client(base_url: str, concurrency: int, key: str | None) -> httpx.AsyncClient:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    return httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT)


@contextlib.asynccontextmanager
async def load_clients(
    base_url: str, args: argparse.Namespace, key: str | None
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """The load's clients: one pooled client shared by all workers (default), or one per worker (--clients)."""
    async with contextlib.AsyncExitStack() as stack:
        if args.clients == "shared":
            yield [await stack.enter_async_context(http_client(base_url, args.concurrency, key))]
        else:
            yield [await stack.enter_async_context(http_client(base_url, 1, key)) for _ in range(args.concurrency)]


def amendment_body(order: BenchOrder, quantity: int) -> bytes:
    operation = {"op": "set_quantity", "line_id": str(order.line_id), "quantity": quantity}
    return msgspec.json.encode({"operations": [operation]})
