"""After the run: wait for the outbox to drain, then check the invariants against the database and the courier."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from scale.workload import Workload

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


async def _rows(database_url: str) -> dict[str, list[Any]]:
    engine = create_async_engine(database_url)
    queries = {
        "orders": "SELECT id, code, version, last_seq, status, paid, total, cod_amount, merged_into_id FROM orders",
        "events": "SELECT order_id, seq, version, type, operations FROM order_events",
        "shipments": "SELECT order_id, tracking_code, client_code FROM shipments",
        "outbox": "SELECT count(*), sum(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END), max(attempts) "
        "FROM outbox WHERE processed_at IS NULL",
    }
    try:
        async with engine.connect() as conn:
            return {name: list((await conn.execute(text(sql))).all()) for name, sql in queries.items()}
    finally:
        await engine.dispose()


def _load_store(path: Path) -> list[dict[str, Any]]:
    """The sandbox courier's parcels as it persists them (its own view, not the service's)."""
    return list(json.loads(path.read_text())) if path.exists() else []


def _result(violations: list[str], checked: int) -> dict[str, Any]:
    return {
        "held": not violations,
        "checked": checked,
        "violations": len(violations),
        "examples": violations[:EXAMPLES],
    }


async def check(workload: Workload, database_url: str, sandbox_store: Path) -> dict[str, Any]:
    """Each invariant: held or not, how many cases were checked, and a few violations."""
    rows = await _rows(database_url)
    mine = set(workload.orders)
    orders = {_uuid(r.id): r for r in rows["orders"] if _uuid(r.id) in mine}
    events: dict[str, list[Any]] = defaultdict(list)
    for e in rows["events"]:
        if _uuid(e.order_id) in mine:
            events[_uuid(e.order_id)].append(e)
    for evs in events.values():
        evs.sort(key=lambda e: e.seq)

    lost_ack = [f"{oid}: created (201) but not in the database" for oid in mine - set(orders)]
    acks = len(mine)
    for oid, model in workload.orders.items():
        row = orders.get(oid)
        for ack in model.acked:
            acks += 1
            if row is None or row.version < ack["version"]:
                lost_ack.append(f"{oid}: acked v{ack['version']}, final v{row.version if row else None}")
                continue
            hit = [e for e in events[oid] if e.version == ack["version"]
                   and any(op.get("name") == ack["name"] for op in _json(e.operations) or [])]  # fmt: skip
            if not hit:
                lost_ack.append(f"{oid}: no event at v{ack['version']} setting {ack['name']!r}")

    lost_update = []
    for oid, row in orders.items():
        seqs = [e.seq for e in events[oid]]
        if seqs != list(range(1, len(seqs) + 1)) or row.last_seq != len(seqs):
            lost_update.append(f"{oid}: seq {seqs[:12]} last_seq {row.last_seq}")
        versions = [e.version for e in events[oid]]
        if any(b < a for a, b in itertools.pairwise(versions)):
            lost_update.append(f"{oid}: versions go back {versions[:12]}")
        changed = [e.version for e in events[oid] if e.type == "amended"]
        if len(changed) != len(set(changed)):
            lost_update.append(f"{oid}: two amendments share a version {changed}")
        if versions and max(versions) > row.version:
            lost_update.append(f"{oid}: an event at v{max(versions)} beyond the order's v{row.version}")

    parcels: dict[str, list[dict[str, Any]]] = defaultdict(list)
    store = await asyncio.to_thread(_load_store, sandbox_store)
    for p in store:
        parcels[p["client_code"].split("-")[0]].append(p)
    shipped = {_uuid(s.order_id) for s in rows["shipments"]}
    duplicate, courier_cod = [], []
    for oid, row in orders.items():
        live = [p for p in parcels.get(row.code, []) if p["status"] != "cancelled"]
        want = 0 if (row.merged_into_id is not None or oid not in shipped) else 1
        if len(live) != want:
            duplicate.append(f"{row.code}: {len(live)} live parcels, expected {want} ({row.status})")
        delivered = row.status in ("delivered", "partially_delivered", "returned")  # the courier keeps its COD
        if want == 1 and len(live) == 1 and not delivered and live[0]["cod_amount"] != row.cod_amount:
            courier_cod.append(f"{row.code}: courier COD {live[0]['cod_amount']} != order {row.cod_amount}")

    money = []
    for oid, row in orders.items():
        closed = row.merged_into_id is not None or row.status == "cancelled"
        want = 0 if closed else max(0, row.total - row.paid)
        if row.cod_amount != want:
            money.append(f"{row.code}: cod {row.cod_amount} != {want} (total {row.total}, paid {row.paid})")
        model = workload.orders[oid]
        if not closed and row.paid != model.paid:
            money.append(f"{row.code}: paid {row.paid} != acknowledged payments and merged sources {model.paid}")

    depth, errored, attempts = rows["outbox"][0]
    outbox = [] if not depth else [f"{depth} unprocessed ({errored or 0} with an error, most attempts {attempts})"]
    return {
        "no_lost_acknowledged_change": _result(lost_ack, acks),
        "no_lost_update": _result(lost_update, len(orders)),
        "no_duplicate_courier_order": _result(duplicate, len(orders)),
        "courier_cod_matches_order": _result(courier_cod, len(shipped & set(orders))),
        "money_conserved": _result(money, len(orders)),
        "outbox_drained": _result(outbox, 1),
    }
