"""Modes 1 and 2: the real server (orders, SQL capture, HTTP load) and the bare Litestar app."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
from benchlib.load import SETUP_ATTEMPTS, SETUP_CONCURRENCY, order_payload, unique_phones
from benchlib.servers import (
    BENCH_DIR,
    cli_path,
    create_key,
    free_port,
    run_command,
    running,
    wait_ready,
)
from uuid_utils.compat import uuid7

from amend.domain import BenchOrder, StepError
from amend.load import (
    LoadResult,
    amendment_body,
    http_client,
    load_clients,
    make_dir,
    run_load,
    server_exceptions,
    split_orders,
)
from amend.openloop import open_loop
from amend.statements import POSTGRES, SQLITE, Replay, ReplayError, check_capture
from amend.wrk import wrk_load

BARE_PATH = "/bare/orders/{order_id}/amendments"
DRAIN_LIMIT_S, STALL_S = 180.0, 5.0


async def create_orders(client: httpx.AsyncClient, count: int, concurrency: int) -> tuple[list[BenchOrder], int]:
    """Create `count` orders through the API; return them and how many attempts had to be retried."""
    gate = asyncio.Semaphore(min(concurrency, SETUP_CONCURRENCY))
    retries = 0

    async def one(phone: str) -> BenchOrder:
        nonlocal retries
        for attempt in range(1, SETUP_ATTEMPTS + 1):
            try:
                async with gate:
                    response = await client.post("/api/orders", content=msgspec.json.encode(order_payload(phone)))
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 201:
                    body = response.json()
                    line = body["lines"][0]
                    return BenchOrder(UUID(body["id"]), UUID(line["id"]), int(body["version"]), int(line["quantity"]))
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code < 500:
                    break
            if attempt < SETUP_ATTEMPTS:
                retries += 1
                await asyncio.sleep(0.2 * attempt)
        raise RuntimeError(f"POST /api/orders failed: {problem}")

    orders = list(await asyncio.gather(*(one(phone) for phone in unique_phones(count))))
    return orders, retries


async def http_load(
    clients: list[httpx.AsyncClient], pid: int, orders: list[BenchOrder], args: argparse.Namespace, db: str
) -> LoadResult:
    async def step(index: int, order: BenchOrder) -> None:
        client = clients[index % len(clients)]
        quantity = order.next_quantity()
        response = await client.post(
            f"/api/orders/{order.id}/amendments",
            content=amendment_body(order, quantity),
            headers={"If-Match": f'"{order.version}"'},
        )
        if response.status_code != 200:
            detail = response.text[:300]
            await resync(client, order)
            raise StepError(f"HTTP {response.status_code}", detail)
        order.version, order.quantity = int(response.headers["etag"].strip('"')), quantity

    return await run_load("http", db, step, split_orders(orders, args.concurrency), args.duration, args.warmup, pid)


async def resync(client: httpx.AsyncClient, order: BenchOrder) -> None:
    """After a failed amendment, read the order's version and quantity back (not counted)."""
    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
        response = await client.get(f"/api/orders/{order.id}")
        if response.status_code == 200:
            body = response.json()
            order.version = int(body["version"])
            order.quantity = next(int(x["quantity"]) for x in body["lines"] if UUID(x["id"]) == order.line_id)


async def capture_amendment_sql(env: dict[str, str], key: str, work: Path) -> dict[str, Any]:
    """What SQLAlchemy sends for one amendment, from bench/capture_amend_sql.py in a subprocess."""
    argv = [sys.executable, str(BENCH_DIR / "capture_amend_sql.py"), "--key", key]
    # Without the embedded outbox relay, whose own statements would otherwise land in the capture.
    out = await run_command(argv, {**env, "ORDERS_RELAY": "off"}, work)
    for line in reversed(out.splitlines()):
        if line.startswith('{"statements"'):
            return dict(json.loads(line))
    raise RuntimeError(f"capture_amend_sql.py printed no statements: {out[-500:]}")


async def read_versions(client: httpx.AsyncClient, orders: list[BenchOrder]) -> None:
    """The orders' current versions and quantities, from the list endpoint (not measured)."""
    current: dict[UUID, tuple[int, int]] = {}
    offset = 0
    while True:
        response = await client.get("/api/orders", params={"limit": 200, "offset": offset})
        response.raise_for_status()
        items = response.json()["items"]
        for item in items:
            current[UUID(item["id"])] = (int(item["version"]), int(item["lines"][0]["quantity"]))
        offset += len(items)
        if not items or offset >= response.json()["total"]:
            break
    for order in orders:
        order.version, order.quantity = current[order.id]


@dataclass
class HttpPhase:
    orders: list[BenchOrder]
    http: LoadResult
    open_loop: LoadResult | None  # at --open-loop x the closed loop's rate; None: not run
    replay: Replay | None  # None: the capture cannot be replayed (the run fails)
    sql_check: dict[str, Any]
    server: dict[str, Any]  # setup retries and the exceptions the server logged


async def http_phase(db: str, env: dict[str, str], work: Path, args: argparse.Namespace) -> HttpPhase:
    """Start the real server on the database in env, make a key and the orders, check the SQL, load it.

    The capture comes first: if the raw-SQL mode cannot replay it, the run of this database fails (no raw-SQL
    figure, exit status 1) instead of measuring a baseline that is not the app's SQL; the HTTP load still runs,
    so that an older app can be measured beside today's baselines.
    """
    make_dir(work)
    port = free_port()
    log = work / "server.log"
    argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with running(argv, env, log, work) as server:
        base = f"http://127.0.0.1:{port}"
        async with http_client(base, args.concurrency, None) as probe:
            await wait_ready(server, log, lambda: probe.get("/health"))
        key = await create_key(env, work)
        print(f"  {db}: capturing the SQL one amendment runs ...", flush=True)
        captured = await capture_amendment_sql(env, key, work)
        replay: Replay | None = None
        try:
            replay, sql_check = check_capture(captured, SQLITE if db == "sqlite" else POSTGRES)
        except ReplayError as error:  # the run fails (exit 1, no raw-SQL row); the HTTP figure is still measured
            sql_check = {"replayed": None, "error": str(error), **captured}
            print(f"  {db}: FAILED: the raw-SQL mode cannot replay the app's SQL: {error}", flush=True)
        async with load_clients(base, args, key) as clients:
            client = clients[0]
            print(f"  {db}: creating {args.orders} orders through POST /api/orders ...", flush=True)
            orders, retries = await create_orders(client, args.orders, args.concurrency)
            print(f"  {db}: HTTP amendments ({args.client}) for {args.duration:g} s at concurrency "
                  f"{args.concurrency} ...", flush=True)  # fmt: skip

            async def resync(orders: list[BenchOrder]) -> None:
                # A request in flight when the load stopped may still commit: read until two reads agree.
                for _ in range(20):
                    await read_versions(client, orders)
                    seen = [o.version for o in orders]
                    await asyncio.sleep(0.5)
                    await read_versions(client, orders)
                    if seen == [o.version for o in orders]:
                        return

            if args.client == "wrk":
                result = await wrk_load("http", db, base, key, orders, args, work, server.pid, resync)
                await read_versions(client, orders)
            else:
                result = await http_load(clients, server.pid, orders, args, db)
            opened, relay = None, {}
            if args.open_loop > 0 and result.rate > 0:
                rate = args.open_loop * result.rate
                print(f"  {db}: open loop at {rate:.0f} amendments/s ({args.open_loop:g} x the closed loop's "
                      f"{result.rate:.0f}/s) for {args.duration:g} s ...", flush=True)  # fmt: skip
                await resync(orders)
                relay = await relay_drained(client)
                opened = await open_loop(db, base, key, orders, rate, args.duration, args.warmup, server.pid)
                relay["after_open_loop"] = await outbox_depth(client)
                await resync(orders)
        logged = server_exceptions(log)  # before the server is stopped, which may log cancellations
    return HttpPhase(orders, result, opened, replay, sql_check, {"create_retries": retries, "relay": relay, **logged})


async def outbox_depth(client: httpx.AsyncClient) -> int | None:
    """The outbox messages the relay has not processed yet, from GET /metrics; None when it cannot say."""
    response = await client.get("/metrics")
    for line in response.text.splitlines():
        if line.startswith("orders_outbox_depth "):
            return int(float(line.split()[1]))
    return None


async def relay_drained(client: httpx.AsyncClient, limit_s: float = DRAIN_LIMIT_S) -> dict[str, Any]:
    """Wait for the embedded relay to finish what the closed loop queued, before the open loop.

    Each amendment leaves two outbox rows (its courier sync and her message, which makes a third). At full
    closed-loop speed the relay, which shares the server's process, falls behind; measured right after, the open
    loop would share the CPU and SQLite's one writer with thousands of messages of the closed loop, and its
    latencies would be those of that backlog, not of its own rate. Gives up when the depth stops falling for
    STALL_S (the relay is off, or stuck) or after `limit_s`; the report says what was left.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    found = depth = await outbox_depth(client)
    best, best_at = depth, started
    while depth and loop.time() - started < limit_s and loop.time() - best_at < STALL_S:
        await asyncio.sleep(0.5)
        depth = await outbox_depth(client)
        if depth is not None and (best is None or depth < best):
            best, best_at = depth, loop.time()
    return {"before_open_loop": found, "waited_s": round(loop.time() - started, 1), "at_open_loop_start": depth}


# ---------------------------------------------------------------------------------------------------------------
# Mode 2: the bare Litestar app.
# ---------------------------------------------------------------------------------------------------------------


async def bare_phase(args: argparse.Namespace, work: Path) -> LoadResult:
    port = free_port()
    log = work / "bare.log"
    argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--host", "127.0.0.1", "--port", str(port)]
    orders = [BenchOrder(uuid7(), uuid7(), 1, 1) for _ in range(max(args.orders, args.concurrency))]
    async with (
        running(argv, dict(os.environ), log, work) as server,
        load_clients(f"http://127.0.0.1:{port}", args, "osk_bench_key_not_checked_by_the_bare_app") as clients,
    ):
        client = clients[0]

        async def step(index: int, order: BenchOrder) -> None:
            client = clients[index % len(clients)]
            quantity = order.next_quantity()
            response = await client.post(
                BARE_PATH.format(order_id=order.id),
                content=amendment_body(order, quantity),
                headers={"If-Match": f'"{order.version}"'},
            )
            if response.status_code != 200:
                raise StepError(f"HTTP {response.status_code}", response.text[:300])
            order.quantity = quantity

        async def probe() -> httpx.Response:
            return await client.post(BARE_PATH.format(order_id=orders[0].id), content=amendment_body(orders[0], 1))

        await wait_ready(server, log, probe)
        print(f"  bare: POST {BARE_PATH} ({args.client}) for {args.duration:g} s at concurrency {args.concurrency} ...",
              flush=True)  # fmt: skip
        if args.client == "wrk":
            base = f"http://127.0.0.1:{port}"
            key = "osk_bench_key_not_checked_by_the_bare_app"
            return await wrk_load("bare", None, base, key, orders, args, work, server.pid, None, "/bare/orders")
        return await run_load(
            "bare", None, step, split_orders(orders, args.concurrency), args.duration, args.warmup, server.pid
        )
