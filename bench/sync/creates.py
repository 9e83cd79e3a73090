"""Measurement 1: courier creates through the relay, then raw creates against the same sandbox API."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any
from uuid import UUID

import httpx
from benchlib.cpu import cpu_sample, cpu_use
from benchlib.results import distribution
from benchlib.servers import (
    REQUEST_TIMEOUT,
)

from sync.logs import parse_time
from sync.service import SANDBOX, BenchOrder, Sandbox, etag, list_shipments, synced

# ---------------------------------------------------------------------------------------------------------------
# Measurement 1: courier creates through the relay, then raw creates against the same sandbox API.
# ---------------------------------------------------------------------------------------------------------------


async def ship_and_sync(
    api: httpx.AsyncClient, sandbox: Sandbox, orders: list[BenchOrder], args: argparse.Namespace, pid: int
) -> dict[str, Any]:
    """Ship every order at once; wait until every shipment is synced; the relay's courier creates per second."""
    k = len(orders)
    timeout = 60 + k * (args.delay_ms_now / 1000 + 0.05) * 3
    calls_before = await sandbox.calls()
    gate = asyncio.Semaphore(args.ship_concurrency)
    errors: Counter[str] = Counter()
    ship_latencies: list[float] = []

    async def ship(order: BenchOrder) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                response = await api.post(f"/api/orders/{order.id}/ship", headers={"If-Match": f'"{order.version}"'})
            except httpx.HTTPError as exc:
                errors[f"ship {type(exc).__name__}"] += 1
                return
            if response.status_code != 200:
                errors[f"ship HTTP {response.status_code}"] += 1
                return
            ship_latencies.append((time.perf_counter() - began) * 1000)
            order.version, order.shipped_wall = etag(response), time.time()

    cpu0 = cpu_sample(pid)
    start = time.perf_counter()
    await asyncio.gather(*(ship(order) for order in orders))
    shipped = time.perf_counter()
    cpu_shipped = cpu_sample(pid)
    shipped_wall = time.time()
    # Cheap first: the sandbox counts create calls; then the orders' own view, which renders up to 200 orders.
    deadline = start + timeout
    while (await sandbox.calls())["create"] - calls_before["create"] < k - sum(errors.values()):
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.05)
    wanted = {o.id for o in orders}
    views: dict[UUID, dict[str, Any]] = {}
    while time.perf_counter() < deadline:
        views = await list_shipments(api, wanted)
        if len(views) == len(wanted) and all(synced(v) for v in views.values()):
            break
        await asyncio.sleep(0.1)
    done = time.perf_counter()
    cpu1 = cpu_sample(pid)
    calls_after = await sandbox.calls()
    not_synced = [str(i) for i in wanted if i not in views or not synced(views[i])]
    if not_synced:
        errors["not synced before the timeout"] = len(not_synced)
    # The courier's clock: when each parcel was created there, and when ship answered here.
    by_id = {o.id: o for o in orders}
    created_at: list[float] = []
    create_lag: list[float] = []
    for order_id, view in views.items():
        tracking = (view.get("shipment") or {}).get("tracking_code")
        if tracking is None:
            continue
        by_id[order_id].tracking = tracking
        courier_view = await sandbox.shipment(tracking)
        if courier_view["client_code"] != by_id[order_id].code:
            errors["courier client_code differs from the order code"] += 1
        at = parse_time(courier_view["created_at"])
        created_at.append(at)
        create_lag.append((at - by_id[order_id].shipped_wall) * 1000)
    created_at.sort()
    seconds = done - start
    after_ship = [t for t in created_at if t >= shipped_wall]
    drain_cpu = cpu_use(cpu_shipped, cpu1, server_seconds=True)
    drain_ms_per_create = (
        round(1000 * drain_cpu["server_cpu_s"] / len(after_ship), 2)
        if after_ship and drain_cpu["server_cpu_s"] is not None
        else None
    )
    courier_span = created_at[-1] - created_at[0] if len(created_at) > 1 else None
    after_span = after_ship[-1] - shipped_wall if after_ship else None
    whole_cpu = cpu_use(cpu0, cpu1, server_seconds=True)
    return {
        "orders": k,
        "synced": k - len(not_synced),
        "seconds_to_all_synced": round(seconds, 3),
        "ship_seconds": round(shipped - start, 3),
        "drain_seconds_after_last_ship": round(done - shipped, 3),
        "creates_per_s": round((k - len(not_synced)) / seconds, 2) if seconds else None,
        "creates_per_s_courier_clock": round((len(created_at) - 1) / courier_span, 2) if courier_span else None,
        "creates_after_last_ship": len(after_ship),
        # Creates the relay made alone (no ship requests left), per second, from the last ship answer to the last
        # create at the courier: the relay's own pace.
        "creates_per_s_after_last_ship": round(len(after_ship) / after_span, 2) if after_span else None,
        "server_cpu_ms_per_create": (
            round(1000 * whole_cpu["server_cpu_s"] / len(created_at), 2)
            if created_at and whole_cpu["server_cpu_s"] is not None
            else None
        ),
        "server_cpu_ms_per_create_after_ship": drain_ms_per_create,
        "ship_latency_ms": distribution(ship_latencies),
        "create_lag_ms": distribution(create_lag),  # ship 200 response -> parcel created at the courier
        "courier_calls": dict(calls_after - calls_before),
        "errors": dict(errors),
        "not_synced_sample": not_synced[:5],
        "cpu": whole_cpu,
        "cpu_after_last_ship": drain_cpu,
        "poll": "GET /sandbox-courier/_faults every 50 ms until the create count is reached, then "
        "GET /api/orders?status=ready_to_ship&limit=200 (all pages) every 100 ms until every shipment is synced",
    }


async def raw_creates(
    base_url: str, sandbox: Sandbox, template: dict[str, Any], count: int, concurrency: int, label: str, pid: int
) -> dict[str, Any]:
    """POST /sandbox-courier/shipments with httpx at `concurrency`, `count` times, each with a new client_code."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: list[str] = []
    async with httpx.AsyncClient(
        base_url=base_url + SANDBOX, headers=sandbox.headers, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:

        async def post(code: str) -> None:
            began = time.perf_counter()
            try:
                response = await client.post("/shipments", json=template | {"client_code": code})
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                return
            if response.status_code != 201:
                errors[f"HTTP {response.status_code}"] += 1
                if len(samples) < 3:
                    samples.append(response.text[:200])
                return
            latencies.append((time.perf_counter() - began) * 1000)

        # Warm-up, not counted: opens the connections.
        await asyncio.gather(*(post(f"{label}-W{i}") for i in range(concurrency)))
        latencies.clear()
        errors.clear()
        queue = iter(range(count))

        async def worker() -> None:
            for n in queue:
                await post(f"{label}-{n}")

        cpu0 = cpu_sample(pid)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
        usage = cpu_use(cpu0, cpu_sample(pid), server_seconds=True)
    ok = len(latencies)
    return {
        "mode": f"raw httpx, concurrency {concurrency}",
        "concurrency": concurrency,
        "creates": ok,
        "seconds": round(seconds, 3),
        "creates_per_s": round(ok / seconds, 2) if seconds else None,
        "server_cpu_ms_per_create": (
            round(1000 * usage["server_cpu_s"] / ok, 2) if ok and usage["server_cpu_s"] is not None else None
        ),
        "latency_ms": distribution(latencies),
        "errors": dict(errors),
        "error_samples": samples,
        "cpu": usage,
    }
