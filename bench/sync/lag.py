"""Measurement 2: sync lag under an open-loop amendment load, and the final consistency check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections import Counter
from typing import Any
from uuid import UUID

import httpx
from benchlib.cpu import cpu_sample, cpu_use
from benchlib.results import distribution

from sync.logs import parse_time
from sync.outbox import OutboxReader
from sync.service import Amendment, BenchOrder, Sandbox, etag, synced

# ---------------------------------------------------------------------------------------------------------------
# Measurement 2: sync lag under an open-loop amendment load.
# ---------------------------------------------------------------------------------------------------------------


async def amendment_lag(
    api: httpx.AsyncClient,
    sandbox: Sandbox,
    outbox: OutboxReader,
    orders: list[BenchOrder],
    burst: int,
    label: str,
    args: argparse.Namespace,
    pid: int,
) -> dict[str, Any]:
    """Open loop: every burst/rate seconds, `burst` back-to-back set_recipient amendments to the next order
    (round robin). A watcher reads each order with unseen amendments from the courier every --poll-ms; the lag is
    the courier's updated_at for the name it holds minus the 200 response of each amendment that name covers.
    Afterwards it waits until the outbox is empty too (stale messages the relay still has to go through), so that
    the next load starts from an idle relay."""
    rate, seconds = args.amend_rate, args.amend_seconds
    events = max(1, round(rate * seconds / burst))
    interval = burst / rate
    done: list[Amendment] = []
    errors: Counter[str] = Counter()
    samples: list[str] = []
    late_starts: list[float] = []
    calls_before = await sandbox.calls()
    watch_requests = 0
    counter = 0
    stop_watch = asyncio.Event()
    backlog: list[int] = []

    async def sample_backlog() -> None:
        while True:
            with contextlib.suppress(Exception):
                backlog.append(int((await outbox.stats())["unprocessed"]))
            await asyncio.sleep(0.5)

    async def amend(order: BenchOrder, intended: float) -> None:
        nonlocal counter
        counter += 1
        item = Amendment(order, f"Bench {label} #{counter}", intended)
        body = {"operations": [{"op": "set_recipient", "name": item.name}]}
        item.sent = time.perf_counter()
        try:
            response = await api.post(
                f"/api/orders/{order.id}/amendments", json=body, headers={"If-Match": f'"{order.version}"'}
            )
        except httpx.HTTPError as exc:
            errors[f"amend {type(exc).__name__}"] += 1
            await resync(api, order)
            return
        item.responded, item.responded_wall = time.perf_counter(), time.time()
        if response.status_code != 200:
            errors[f"amend HTTP {response.status_code}"] += 1
            if len(samples) < 5:
                samples.append(f"HTTP {response.status_code}: {response.text[:200]}")
            await resync(api, order)
            return
        item.version = order.version = etag(response)
        order.versions_by_name[item.name] = item.version
        order.pending.append(item)
        order.last_name = item.name
        done.append(item)

    async def event(order: BenchOrder, intended: float) -> None:
        await asyncio.sleep(max(0.0, intended - time.perf_counter()))
        late_starts.append((time.perf_counter() - intended) * 1000)
        async with order.lock:  # the same order's earlier burst still running (only if the server is very slow)
            for _ in range(burst):
                await amend(order, intended)

    async def look(order: BenchOrder, gate: asyncio.Semaphore) -> None:
        nonlocal watch_requests
        if order.tracking is None or not order.pending:
            return
        async with gate:
            watch_requests += 1
            try:
                view = await sandbox.shipment(order.tracking)
            except httpx.HTTPError as exc:
                errors[f"watch {type(exc).__name__}"] += 1
                return
        held = order.versions_by_name.get(view["recipient_name"], 0)
        at = parse_time(view["updated_at"])
        for item in [a for a in order.pending if a.version <= held]:
            item.lag_s = at - item.responded_wall
            order.pending.remove(item)

    async def watcher() -> None:
        """Every --poll-ms, read the orders with unseen amendments that were not read in the last --poll-ms, oldest
        amendment first, at most --watch-rate reads per second: the lag comes from the courier's own clock, so a
        late read changes nothing but the load this watcher puts on the server while the relay is behind."""
        gate = asyncio.Semaphore(4)
        tick = args.poll_ms / 1000
        budget = max(1, round(args.watch_rate * tick))
        last_read: dict[UUID, float] = {}
        while True:
            began = time.perf_counter()
            due = [o for o in orders if o.pending and began - last_read.get(o.id, 0.0) >= tick]
            due.sort(key=lambda o: o.pending[0].responded)
            for order in due[:budget]:
                last_read[order.id] = began
            await asyncio.gather(*(look(o, gate) for o in due[:budget]))
            if stop_watch.is_set() and not any(o.pending for o in orders):
                return
            await asyncio.sleep(max(0.0, tick - (time.perf_counter() - began)))

    cpu0 = cpu_sample(pid)
    start = time.perf_counter() + 0.05
    watch = asyncio.create_task(watcher())
    sampler = asyncio.create_task(sample_backlog())
    try:
        await asyncio.gather(*(event(orders[e % len(orders)], start + e * interval) for e in range(events)))
        load_end = time.perf_counter()
        stop_watch.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(watch), timeout=args.drain_timeout)
        drained = time.perf_counter()
        left_at_catch_up = (await outbox.stats())["unprocessed"]
        outbox_idle = await outbox.wait_idle(max(1.0, args.drain_timeout - (drained - load_end)))
        outbox_drained = time.perf_counter()
    finally:
        for task in (watch, sampler):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    usage = cpu_use(cpu0, cpu_sample(pid), server_seconds=True)
    never = sum(len(o.pending) for o in orders)
    if never:
        errors[f"not at the courier {args.drain_timeout:g} s after the load"] += never
    for o in orders:
        o.pending.clear()
    calls = await sandbox.calls() - calls_before
    lags = [max(0.0, a.lag_s) * 1000 for a in done if a.lag_s is not None]
    before_response = sum(1 for a in done if a.lag_s is not None and a.lag_s < 0)
    final = await final_check(api, sandbox, {a.order.id: a.order for a in done})
    errors.update(final["problems"])
    if not outbox_idle:
        errors[f"outbox not empty {args.drain_timeout:g} s after the load"] += 1
    updates = calls.get("update", 0)
    return {
        "label": label,
        "burst": burst,
        "rate_per_s": rate,
        "seconds": seconds,
        "scheduled": events * burst,
        "accepted": len(done),
        "orders_amended": len({a.order.id for a in done}),
        "load_seconds": round(load_end - start, 3),
        "drain_seconds_after_load": round(drained - load_end, 3),
        "outbox_backlog_max": max(backlog, default=None),  # unprocessed rows, sampled every 0.5 s
        "outbox_unprocessed_when_courier_caught_up": left_at_catch_up,
        "outbox_empty_seconds_after_load": round(outbox_drained - load_end, 3) if outbox_idle else None,
        "courier_update_calls": updates,
        "update_calls_per_amendment": round(updates / len(done), 3) if done else None,
        "courier_calls": dict(calls),
        "lag_ms": distribution(lags),
        "lag_synced_before_response": before_response,
        "amend_latency_ms": distribution([(a.responded - a.sent) * 1000 for a in done]),
        "amend_latency_from_intended_ms": distribution([(a.responded - a.intended) * 1000 for a in done]),
        "schedule_late_ms": distribution(late_starts),
        "watch_requests": watch_requests,  # GET /sandbox-courier/shipments/{code} by the watcher (server load)
        "errors": dict(errors),
        "error_samples": samples + final["samples"],
        "cpu": usage,
    }


async def resync(api: httpx.AsyncClient, order: BenchOrder) -> None:
    """After a failed amendment, read the order's version back (not counted)."""
    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
        response = await api.get(f"/api/orders/{order.id}")
        if response.status_code == 200:
            order.version = int(response.json()["version"])


async def final_check(api: httpx.AsyncClient, sandbox: Sandbox, orders: dict[UUID, BenchOrder]) -> dict[str, Any]:
    """After the drain: each amended order synced at its latest version, and the courier holding its last name."""
    problems: Counter[str] = Counter()
    samples: list[str] = []
    gate = asyncio.Semaphore(8)

    async def check(order: BenchOrder) -> None:
        async with gate:
            body = (await api.get(f"/api/orders/{order.id}")).json()
            shipment = body.get("shipment") or {}
            if not synced(body):
                problems["final: shipment not synced at the order's version"] += 1
                if len(samples) < 3:
                    samples.append(f"order {order.id} version {body['version']} shipment {shipment}")
            if order.tracking is not None and order.last_name is not None:
                view = await sandbox.shipment(order.tracking)
                if view["recipient_name"] != order.last_name:
                    problems["final: courier holds another name than the last amendment"] += 1

    await asyncio.gather(*(check(order) for order in orders.values()))
    return {"problems": problems, "samples": samples}


# ---------------------------------------------------------------------------------------------------------------
# One run.
# ---------------------------------------------------------------------------------------------------------------


async def jitter_delay(sandbox: Sandbox, delay_ms: int, jitter_ms: int, stop: asyncio.Event) -> None:
    """Approximate delay ± jitter: the sandbox has one delay for all calls, so re-draw it every 100 ms."""
    while not stop.is_set():
        with contextlib.suppress(httpx.HTTPError):
            await sandbox.set_delay(max(0, round(random.uniform(delay_ms - jitter_ms, delay_ms + jitter_ms))))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.1)
