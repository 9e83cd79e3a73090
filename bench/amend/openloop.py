"""Open loop: amendments sent at a fixed arrival rate, whatever the server's answers take (`--open-loop`).

The closed loop (wrk, C workers) measures throughput at C requests in flight; its latencies are those of a
client that waits. The latency goal of issue 18 is p99 under 3x p50 at half the capacity, for requests that
arrive on their own schedule: request k is due at t0 + k/rate, and its latency is counted from that due time
to the end of its answer, so a server (or a client) that falls behind shows it as latency instead of sending
less (no coordinated omission). wrk2 does this but Debian does not package it; this client speaks HTTP/1.1 on
plain asyncio streams (no httpx: about 0.1 ms of CPU a request, so at a few hundred per second it is not the
bottleneck; its CPU is reported as client %). Each request takes an order no other request has in flight and
a kept-alive connection nobody is using (opening one when none is free).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from uuid import UUID

import msgspec
from benchlib.cpu import cpu_sample, cpu_use
from benchlib.servers import REQUEST_TIMEOUT

from amend.domain import BenchOrder
from amend.load import LoadResult, amendment_body

MAX_CONNECTIONS = 512
IDLE_S = 2.0  # uvicorn closes a kept-alive connection after 5 s without a request; reusing one then fails


class _Client:
    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port, self.key = host, port, key
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = deque()
        self.opened = 0

    def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The connection used last, after closing those idle for longer than the server keeps them open."""
        limit = time.perf_counter() - IDLE_S
        while self.idle and self.idle[0][2] < limit:
            self.idle.popleft()[1].close()
            self.opened -= 1
        return self.idle.pop()[:2] if self.idle else None

    async def request(self, method: str, path: str, body: bytes, headers: str) -> tuple[int, dict[str, str], bytes]:
        if (kept := self._connection()) is not None:
            reader, writer = kept
        else:
            if self.opened >= MAX_CONNECTIONS:
                raise RuntimeError(f"more than {MAX_CONNECTIONS} requests in flight")
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {self.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
        )
        try:
            writer.write(head.encode() + body)
            status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
            content = await reader.readexactly(int(fields.get("content-length", "0")))
        except BaseException:
            writer.close()
            self.opened -= 1
            raise
        self.idle.append((reader, writer, time.perf_counter()))
        return int(status_line.split(" ", 2)[1]), fields, content

    def close(self) -> None:
        while self.idle:
            self.idle.pop()[1].close()


async def open_loop(
    db: str, base_url: str, key: str, orders: list[BenchOrder], rate: float, duration: float, warmup: float,
    server_pid: int,
) -> LoadResult:  # fmt: skip
    """`rate` amendments/s for warmup + duration seconds; those due inside the measured window count."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    client = _Client(host, int(port), key)
    free = deque(orders)
    ok, errors, samples, latencies = 0, Counter[str](), list[str](), list[float]()
    start = time.perf_counter() + 0.05
    window_start, window_end = start + warmup, start + warmup + duration

    async def amend(due: float, order: BenchOrder) -> None:
        nonlocal ok
        quantity, failure = order.next_quantity(), None
        try:
            status, fields, body = await asyncio.wait_for(
                client.request("POST", f"/api/orders/{order.id}/amendments", amendment_body(order, quantity),
                               f'If-Match: "{order.version}"\r\n'),
                REQUEST_TIMEOUT,
            )  # fmt: skip
            if status == 200:
                order.version, order.quantity = int(fields["etag"].strip('"')), quantity
            else:
                failure = f"HTTP {status}"
                if len(samples) < 5:
                    samples.append(f"{failure}: {body[:200]!r}")
                await _resync(client, order)
        except Exception as exc:
            failure = type(exc).__name__
            if len(samples) < 5:
                samples.append(f"{failure}: {exc}"[:300])
        ended = time.perf_counter()
        if window_start <= due < window_end:
            if failure is None:
                ok += 1
                latencies.append((ended - due) * 1000)
            else:
                errors[failure] += 1
        free.append(order)

    tasks: set[asyncio.Task[None]] = set()
    cpu = []
    total = int((warmup + duration) * rate)
    for k in range(total):
        due = start + k / rate
        if due >= window_start and not cpu:
            cpu.append(cpu_sample(server_pid))
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if not free:
            if window_start <= due < window_end:
                errors["no order free (all in flight)"] += 1
            continue
        task = asyncio.create_task(amend(due, free.popleft()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
    cpu.append(cpu_sample(server_pid))
    if tasks:
        await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
    client.close()
    usage = cpu_use(cpu[0], cpu[-1], server_seconds=True) if len(cpu) == 2 else {}
    usage["client_process_pct"] = usage.pop("bench_process_pct", None)
    return LoadResult("open", db, ok, duration, latencies, errors, samples, usage)


async def _resync(client: _Client, order: BenchOrder) -> None:
    """After a failed amendment, the order's version and quantity read back (not counted)."""
    status, _, body = await client.request("GET", f"/api/orders/{order.id}", b"", "")
    if status == 200:
        found = msgspec.json.decode(body)
        order.version = int(found["version"])
        order.quantity = next(int(x["quantity"]) for x in found["lines"] if UUID(x["id"]) == order.line_id)
