"""After the run: wait for the outbox to drain, then check the invariants against the database and the courier.

Reading (`read_rows`, `load_store`) is apart from judging (`evaluate` and one pure function per invariant over
plain rows), so that tests can feed the judge a history that breaks each invariant and see it say so."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from couriers.sandbox.store import Store
from scale.workload import Order, Workload

EXAMPLES = 5  # violations kept per invariant in the report


def _uuid(value: Any) -> str:
    if isinstance(value, bytes):
        return str(UUID(bytes=value))
    return str(UUID(str(value)))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def wait_drained(database_url: str, limit_s: float) -> dict[str, Any]:
    """Poll the outbox until no message is left unprocessed (or `limit_s` passes)."""
    engine = create_async_engine(database_url)
    start = time.perf_counter()
    depth = -1
    try:
        while time.perf_counter() - start < limit_s:
            try:
                async with engine.connect() as conn:
                    depth = (
                        await conn.execute(text("SELECT count(*) FROM outbox WHERE processed_at IS NULL"))
                    ).scalar_one()
            except Exception:  # the database may still be coming back after its restart
                depth = -1
            if depth == 0:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    return {"drained": depth == 0, "depth_left": depth, "drain_s": round(time.perf_counter() - start, 2)}


class OrderRow(NamedTuple):
    id: Any
    code: str
    version: int
    last_seq: int
    status: str
    paid: int
    total: int
    cod_amount: int
    merged_into_id: Any


class EventRow(NamedTuple):
    order_id: Any
    seq: int
    version: int
    type: str
    operations: Any  # a JSON list (a string on SQLite)


class ShipmentRow(NamedTuple):
    order_id: Any
    tracking_code: str | None
    client_code: str | None


class OutboxLeft(NamedTuple):
    depth: int  # messages not processed
    errored: int | None  # of which with an error recorded
    attempts: int | None  # the most attempts of one


@dataclass
class Rows:
    """What the checks read from the database, as plain rows: tests build these by hand."""

    orders: list[OrderRow]
    events: list[EventRow]
    shipments: list[ShipmentRow]
    outbox: OutboxLeft


_QUERIES = {
    "orders": "SELECT id, code, version, last_seq, status, paid, total, cod_amount, merged_into_id FROM orders",
    "events": "SELECT order_id, seq, version, type, operations FROM order_events",
    "shipments": "SELECT order_id, tracking_code, client_code FROM shipments",
    "outbox": "SELECT count(*), sum(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END), max(attempts) "
    "FROM outbox WHERE processed_at IS NULL",
}


async def read_rows(database_url: str) -> Rows:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            got = {name: list((await conn.execute(text(sql))).all()) for name, sql in _QUERIES.items()}
    finally:
        await engine.dispose()
    return Rows([OrderRow(*r) for r in got["orders"]], [EventRow(*r) for r in got["events"]],
                [ShipmentRow(*r) for r in got["shipments"]], OutboxLeft(*got["outbox"][0]))  # fmt: skip


def load_store(path: Path) -> list[dict[str, Any]]:
    """The sandbox courier's parcels as it persists them (its own view, not the service's): its snapshot file and
    the journal of the changes since, read by its own Store."""
    return [msgspec.to_builtins(s) for s in Store(path).load(repair=False)]


def _result(violations: list[str], checked: int) -> dict[str, Any]:
    return {
        "held": not violations,
        "checked": checked,
        "violations": len(violations),
        "examples": violations[:EXAMPLES],
    }


async def check(workload: Workload, database_url: str, sandbox_store: Path) -> dict[str, Any]:
    """Each invariant: held or not, how many cases were checked, and a few violations."""
    rows = await read_rows(database_url)
    parcels = await asyncio.to_thread(load_store, sandbox_store)
    return evaluate(workload.orders, rows, parcels)


def evaluate(model: dict[str, Order], rows: Rows, parcels: list[dict[str, Any]]) -> dict[str, Any]:
    """The invariants over what the client was told (`model`: its orders, by id), the database's rows and the
    courier's parcels. Only the orders of this run are looked at: the database may hold others."""
    orders = {_uuid(r.id): r for r in rows.orders if _uuid(r.id) in model}
    events: dict[str, list[EventRow]] = defaultdict(list)
    for e in rows.events:
        if _uuid(e.order_id) in model:
            events[_uuid(e.order_id)].append(e)
    for evs in events.values():
        evs.sort(key=lambda e: e.seq)
    shipped = {_uuid(s.order_id) for s in rows.shipments} & set(orders)
    return {
        "no_lost_acknowledged_change": _result(*lost_acknowledged(model, orders, events)),
        "no_lost_update": _result(lost_updates(orders, events), len(orders)),
        "no_duplicate_courier_order": _result(duplicate_courier_orders(orders, shipped, parcels), len(orders)),
        "courier_cod_matches_order": _result(courier_cod(orders, shipped, parcels), len(shipped)),
        "money_conserved": _result(money(model, orders), len(orders)),
        "outbox_drained": _result(outbox_left(rows.outbox), 1),
    }


def lost_acknowledged(
    model: dict[str, Order], orders: dict[str, OrderRow], events: dict[str, list[EventRow]]
) -> tuple[list[str], int]:
    """Every 201 order exists; every 200 set_recipient is at or below the final version, with its event."""
    lost = [f"{oid}: created (201) but not in the database" for oid in model.keys() - orders.keys()]
    acks = len(model)
    for oid, order in model.items():
        row = orders.get(oid)
        for ack in order.acked:
            acks += 1
            if row is None or row.version < ack["version"]:
                lost.append(f"{oid}: acked v{ack['version']}, final v{row.version if row else None}")
                continue
            hit = [e for e in events.get(oid, []) if e.version == ack["version"]
                   and any(op.get("name") == ack["name"] for op in _json(e.operations) or [])]  # fmt: skip
            if not hit:
                lost.append(f"{oid}: no event at v{ack['version']} setting {ack['name']!r}")
    return lost, acks


def lost_updates(orders: dict[str, OrderRow], events: dict[str, list[EventRow]]) -> list[str]:
    """Events numbered 1..last_seq without gaps, versions never going back, no two amendments at one version."""
    lost = []
    for oid, row in orders.items():
        evs = events.get(oid, [])
        seqs = [e.seq for e in evs]
        if seqs != list(range(1, len(seqs) + 1)) or row.last_seq != len(seqs):
            lost.append(f"{oid}: seq {seqs[:12]} last_seq {row.last_seq}")
        versions = [e.version for e in evs]
        if any(b < a for a, b in itertools.pairwise(versions)):
            lost.append(f"{oid}: versions go back {versions[:12]}")
        changed = [e.version for e in evs if e.type == "amended"]
        if len(changed) != len(set(changed)):
            lost.append(f"{oid}: two amendments share a version {changed}")
        if versions and max(versions) > row.version:
            lost.append(f"{oid}: an event at v{max(versions)} beyond the order's v{row.version}")
    return lost


def _live_parcels(parcels: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Parcels not cancelled, by order code (client codes are CODE, CODE-2, ... for a recreated parcel)."""
    by_code: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in parcels:
        if p["status"] != "cancelled":
            by_code[p["client_code"].split("-")[0]].append(p)
    return by_code


def duplicate_courier_orders(
    orders: dict[str, OrderRow], shipped: set[str], parcels: list[dict[str, Any]]
) -> list[str]:
    """Exactly one live parcel per shipped order; none for a merged source or an order never shipped."""
    live, found = _live_parcels(parcels), []
    for oid, row in orders.items():
        want = 0 if (row.merged_into_id is not None or oid not in shipped) else 1
        if len(live.get(row.code, [])) != want:
            found.append(f"{row.code}: {len(live.get(row.code, []))} live parcels, expected {want} ({row.status})")
    return found


def courier_cod(orders: dict[str, OrderRow], shipped: set[str], parcels: list[dict[str, Any]]) -> list[str]:
    """The courier collects what the order says (not once delivered: the courier keeps what it collected)."""
    live, found = _live_parcels(parcels), []
    for oid, row in orders.items():
        mine = live.get(row.code, [])
        if oid not in shipped or row.merged_into_id is not None or len(mine) != 1:
            continue  # a missing or extra parcel is the duplicate check's finding
        delivered = row.status in ("delivered", "partially_delivered", "returned")
        if not delivered and mine[0]["cod_amount"] != row.cod_amount:
            found.append(f"{row.code}: courier COD {mine[0]['cod_amount']} != order {row.cod_amount}")
    return found


def money(model: dict[str, Order], orders: dict[str, OrderRow]) -> list[str]:
    """COD = max(0, total - paid), 0 once merged or cancelled; paid = the acknowledged payments and merged sources'."""
    found = []
    for oid, row in orders.items():
        closed = row.merged_into_id is not None or row.status == "cancelled"
        want = 0 if closed else max(0, row.total - row.paid)
        if row.cod_amount != want:
            found.append(f"{row.code}: cod {row.cod_amount} != {want} (total {row.total}, paid {row.paid})")
        if not closed and row.paid != model[oid].paid:
            found.append(f"{row.code}: paid {row.paid} != acknowledged payments and merged sources {model[oid].paid}")
    return found


def outbox_left(left: OutboxLeft) -> list[str]:
    if not left.depth:
        return []
    return [f"{left.depth} unprocessed ({left.errored or 0} with an error, most attempts {left.attempts})"]
