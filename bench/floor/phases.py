"""The two servers a run measures: bench/bare_app.py, and the app with its probe routes (bench/floor/probe_app.py)
on a fresh database, which serves every probe and the real amendment. Both start at once (the setup is not
measured: a short run is mostly setup); they are loaded one after the other, the idle one waiting."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from amend.domain import BenchOrder
from amend.http_modes import create_orders, read_versions
from amend.load import LoadResult, http_client
from benchlib.servers import BENCH_DIR, free_port, running, wait_ready
from uuid_utils.compat import uuid7

from floor.wrk import amend_load, probe_load, write_requests

BARE_PATH = "/bare/orders/{id}/amendments"
PROBES = ("stack", "session", "deps", "transaction", "read")  # the probe app's routes, each a layer further
PROBE_PATH = "/api/_probe/{probe}/{id}"
SEGMENT = {"session": "db"}  # a probe's path segment, where it is not its name (probe_app.py says why)
BARE_KEY = "osk_bench_key_not_checked_by_the_bare_app"


@dataclass
class Server:
    base: str
    pid: int
    key: str
    orders: list[BenchOrder]  # one per connection
    client: httpx.AsyncClient  # with the key


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


@contextlib.asynccontextmanager
async def bare_server(args: argparse.Namespace, env: dict[str, str], work: Path) -> AsyncIterator[Server]:
    """bench/bare_app.py, served as bench/amend serves it."""
    port = free_port()
    log = work / "bare.log"
    argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--host", "127.0.0.1", "--port", str(port)]
    orders = [BenchOrder(uuid7(), uuid7(), 1, 1) for _ in range(args.connections)]
    base = f"http://127.0.0.1:{port}"
    async with running(argv, env, log, work) as server, http_client(base, 1, BARE_KEY) as client:
        body = b'{"operations":[{"op":"set_quantity","line_id":"%s","quantity":1}]}' % str(uuid7()).encode()
        await wait_ready(server, log, lambda: client.post(BARE_PATH.format(id=orders[0].id), content=body))
        yield Server(base, server.pid, BARE_KEY, orders, client)


@contextlib.asynccontextmanager
async def app_server(args: argparse.Namespace, db: str, env: dict[str, str], work: Path) -> AsyncIterator[Server]:
    """Start the probe app, which migrates and writes a key first, then create one order per connection."""
    port = free_port()
    log, key_file = work / f"probe-app-{db}.log", work / "key.txt"
    argv = [sys.executable, str(BENCH_DIR / "floor" / "probe_app.py"), "--host", "127.0.0.1", "--port", str(port),
            "--key-file", str(key_file)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    async with running(argv, env, log, work) as server:
        async with http_client(base, 1, None) as anonymous:
            await wait_ready(server, log, lambda: anonymous.get("/health"))
        key = key_file.read_text().strip()
        async with http_client(base, args.connections, key) as client:
            orders, _ = await create_orders(client, args.connections, args.connections)
            yield Server(base, server.pid, key, orders, client)


async def bare_load(args: argparse.Namespace, bare: Server, work: Path) -> LoadResult:
    requests_file = work / "bare-requests.txt"
    write_requests(requests_file, [BARE_PATH.format(id=o.id) for o in bare.orders], bare.orders)
    _say(f"bare: POST {BARE_PATH} for {args.duration:g} s ...")
    return await probe_load("bare", None, bare.base, requests_file, bare.key, args, bare.pid)


async def app_loads(args: argparse.Namespace, db: str, app: Server, work: Path) -> list[LoadResult]:
    """Every probe, then the real amendment, on the same orders."""
    results: list[LoadResult] = []
    for probe in PROBES:
        requests_file = work / f"{probe}-requests.txt"
        path = PROBE_PATH.format(probe=SEGMENT.get(probe, probe), id="{id}")
        write_requests(requests_file, [path.format(id=o.id) for o in app.orders], app.orders)
        _say(f"{db}: POST {path} for {args.duration:g} s ...")
        results.append(await probe_load(probe, db, app.base, requests_file, app.key, args, app.pid))

    async def resync(orders: list[BenchOrder]) -> None:
        # After a warm-up a request in flight when wrk stopped may still commit: read until two reads agree.
        for _ in range(20):
            await read_versions(app.client, orders)
            seen = [o.version for o in orders]
            if args.warmup <= 0:
                return
            await asyncio.sleep(0.5)
            await read_versions(app.client, orders)
            if seen == [o.version for o in orders]:
                return

    _say(f"{db}: POST /api/orders/{{id}}/amendments (set_quantity, If-Match) for {args.duration:g} s ...")
    results.append(await amend_load(db, app.base, app.key, app.orders, args, work, app.pid, resync))
    return results
