"""Amendments and new orders while PostgreSQL connections are terminated; then: is every 2xx in the database?

A 2xx tells the client its change is saved: the amendment answered with ETag version V must be the order's
event of version V, with the name it set; an order answered 201 must exist. The fault is the one a database
restart, a failover or a proxy gives: `pg_terminate_backend` on every other connection of the database, again
and again. Requests may fail meanwhile (503 with Retry-After, which the workers obey briefly), never with a 500.

Used by bench/db_fault_bench.py (60 s against a served process) and by the suite's short version
(tests/integration/test_commit_under_kills.py, a few seconds in process).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

KILLER = "db-fault-killer"  # the killers' application_name: they spare each other
# Every other connection of the database: what a restart, a failover or a proxy does (the query).
KILL_ALL = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    f"WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> '{KILLER}'"
)
# Connections whose transaction wrote, then read, and waits for its client: most often the moment between a
# handler's last read (the answer it renders) and its COMMIT, where a service that acknowledges a change its
# COMMIT lost does so. Polled often, it puts the fault there; a kill elsewhere fails the next statement instead.
KILL_WRITERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND state = 'idle in transaction' AND backend_xid IS NOT NULL AND query ILIKE 'select%'"
)
_names = itertools.count(1)


@dataclass(frozen=True)
class Ack:
    """A change the service acknowledged: the order, the version its answer carried, the name it set."""

    order_id: str
    version: int
    name: str
    created: bool = False


@dataclass
class Ledger:
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    acks: list[Ack] = field(default_factory=list)
    transport_errors: int = 0
    kills: int = 0  # connections terminated
    rounds: int = 0  # times every connection was terminated
    lock: threading.Lock = field(default_factory=threading.Lock)  # the killers count from their threads

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.transport_errors

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def unavailable(self) -> int:
        return self.statuses[503]

    def others(self) -> dict[int, int]:
        return {s: n for s, n in sorted(self.statuses.items()) if not 200 <= s < 300 and s != 503}


def summary(ledger: Ledger, lost: int | None = None) -> str:
    text = (
        f"requests {ledger.requests}, 2xx {ledger.ok}, 503 {ledger.unavailable}, other statuses {ledger.others()}, "
        f"transport errors {ledger.transport_errors}; {ledger.kills} connections terminated "
        f"({ledger.rounds} times all of them)"
    )
    return text if lost is None else f"{text}; lost 2xx {lost}"


def order_body(name: str, phone: str) -> dict[str, Any]:
    return {
        "customer": {"full_name": name, "phones": [phone]},
        "channel": "website",
        "recipient": {
            "name": name,
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
        },
        "lines": [
            {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
        ],
        "shipping": {"fee": 30000, "payer": "customer"},
    }


def phone(n: int) -> str:
    return f"090{n % 10_000_000:07d}"


async def _send(client: httpx.AsyncClient, ledger: Ledger, method: str, path: str, **kw: Any) -> httpx.Response | None:
    try:
        response = await client.request(method, path, **kw)
    except httpx.TransportError:
        ledger.transport_errors += 1
        return None
    ledger.statuses[response.status_code] += 1
    return response


async def _pause_after(response: httpx.Response | None, stop: asyncio.Event) -> None:
    """A 503 says when to retry; a worker waits that long, at most a fifth of a second here (it keeps the load)."""
    if response is not None and response.status_code == 503:
        wait = min(0.2, float(response.headers.get("retry-after", "0.2")))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)


async def create_orders(client: httpx.AsyncClient, count: int, first_phone: int) -> list[dict[str, Any]]:
    """Orders to amend, made before the fault starts (retried until made)."""
    made = []
    for n in range(count):
        for _ in range(50):
            response = await client.post("/api/orders", json=order_body(f"Khách {n}", phone(first_phone + n)))
            if response.status_code == 201:
                made.append(response.json())
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"could not create an order before the fault: {response.status_code} {response.text}")
    return made


async def amend_worker(
    client: httpx.AsyncClient, orders: list[dict[str, Any]], ledger: Ledger, stop: asyncio.Event
) -> None:
    """Renames its own orders one after the other, with If-Match from the last answer it saw."""
    versions = {o["id"]: int(o["version"]) for o in orders}
    for order in itertools.cycle(orders):
        if stop.is_set():
            return
        order_id, name = order["id"], f"K{next(_names)}"
        operation = {"op": "set_recipient", "name": name, "phones": order["recipient"]["phones"]}
        response = await _send(
            client,
            ledger,
            "POST",
            f"/api/orders/{order_id}/amendments",
            json={"operations": [operation]},
            headers={"If-Match": f'"{versions[order_id]}"'},
        )
        if response is not None and response.status_code == 200:
            version = int(response.headers["etag"].strip('"'))
            ledger.acks.append(Ack(order_id, version, name))
            versions[order_id] = version
        elif response is None or response.status_code in (412, 503):
            # Stale (a change that went through although its answer was lost) or unknown: read the version.
            current = await _send(client, ledger, "GET", f"/api/orders/{order_id}")
            if current is not None and current.status_code == 200:
                versions[order_id] = int(current.json()["version"])
            await _pause_after(current if response is None else response, stop)


async def create_worker(client: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event, first_phone: int) -> None:
    """New orders, one after the other."""
    for n in itertools.count(first_phone):
        if stop.is_set():
            return
        name = f"N{next(_names)}"
        response = await _send(client, ledger, "POST", "/api/orders", json=order_body(name, phone(n)))
        if response is not None and response.status_code == 201:
            ledger.acks.append(Ack(response.json()["id"], 1, name, created=True))
        await _pause_after(response, stop)


def killer(dsn: str, query: str, every_s: float, ledger: Ledger, stop: threading.Event) -> None:
    """Runs `query` (it terminates connections) every `every_s` seconds until `stop`, in a thread of its own: an
    app served in the caller's event loop cannot hold it back while it computes an answer."""

    async def loop() -> None:
        admin = await asyncpg.connect(dsn, timeout=10, server_settings={"application_name": KILLER})
        try:
            while not stop.wait(every_s):
                killed = int(await admin.fetchval(query))
                with ledger.lock:
                    ledger.kills += killed
                    ledger.rounds += query is KILL_ALL
        finally:
            await admin.close()

    asyncio.run(loop())


async def run(
    client: httpx.AsyncClient,
    dsn: str,
    *,
    duration_s: float,
    kill_every_s: float,
    writers_every_s: float | None = 0.02,
    amenders: int = 4,
    orders_each: int = 2,
    creators: int = 1,
) -> Ledger:
    """The load for `duration_s` seconds while every connection is terminated every `kill_every_s` seconds (and
    writers waiting for their client every `writers_every_s`, unless None); returns what was sent and answered."""
    ledger, stop, stop_killing = Ledger(), asyncio.Event(), threading.Event()
    base = int(time.time() * 1000) % 1_000_000 * 10  # distinct phones per run, on a database that may be reused
    orders = await create_orders(client, amenders * orders_each, base)
    tasks = [
        *(
            asyncio.create_task(amend_worker(client, orders[i * orders_each : (i + 1) * orders_each], ledger, stop))
            for i in range(amenders)
        ),
        *(asyncio.create_task(create_worker(client, ledger, stop, base + 1_000 * (i + 1))) for i in range(creators)),
        asyncio.create_task(asyncio.to_thread(killer, dsn, KILL_ALL, kill_every_s, ledger, stop_killing)),
    ]
    if writers_every_s is not None:
        writers = asyncio.to_thread(killer, dsn, KILL_WRITERS, writers_every_s, ledger, stop_killing)
        tasks.append(asyncio.create_task(writers))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*tasks)), duration_s)
    finally:
        stop.set()
        stop_killing.set()
        await asyncio.gather(*tasks)
    return ledger


async def lost(client: httpx.AsyncClient, ledger: Ledger) -> list[tuple[Ack, str]]:
    """The acknowledged changes the database does not hold, each with what it holds instead."""
    missing = []
    events: dict[str, list[dict[str, Any]]] = {}
    for ack in ledger.acks:
        if ack.created:
            found = await _read(client, f"/api/orders/{ack.order_id}")
            if found is None or found["recipient"]["name"] != ack.name:
                missing.append((ack, "no such order" if found is None else f"named {found['recipient']['name']}"))
            continue
        if ack.order_id not in events:
            events[ack.order_id] = await _read(client, f"/api/orders/{ack.order_id}/events") or []
        at_version = [e for e in events[ack.order_id] if e["version"] == ack.version]
        names = [op.get("name") for e in at_version for op in e["operations"]]
        if ack.name not in names:
            missing.append((ack, f"version {ack.version} is {names or 'absent'}"))
    return missing


async def _read(client: httpx.AsyncClient, path: str) -> Any:
    for _ in range(20):  # the fault is over, but a pooled connection may still be a dead one
        response = await client.get(path)
        if response.status_code == 200:
            return response.json()
        if response.status_code == 404:
            return None
        await asyncio.sleep(0.1)
    raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
