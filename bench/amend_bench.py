"""Amendment throughput: the real HTTP endpoint vs a bare Litestar route vs the same SQL through the driver.

One run measures, for SQLite and for PostgreSQL:

* ``http``    POST /api/orders/{id}/amendments on the real server (``orders-service serve`` as a subprocess),
* ``bare``    the same requests against bench/bare_app.py (one Litestar route, no database), served alike,
* ``raw-sql`` the statements SQLAlchemy emits for one amendment, issued directly through aiosqlite / asyncpg,

all from this process at the same concurrency, each worker owning distinct orders (so no 412s). It prints a
table with amendments/s, p50/p99 latency, errors and CPU use, the ratios HTTP/bare and HTTP/raw-SQL, and
writes everything to bench/results/amend-<timestamp>.json. See bench/README.md.

    .venv/bin/python bench/amend_bench.py [--duration 10] [--concurrency 16] [--orders 200] [--db sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

try:
    import aiosqlite
    import asyncpg
    import httpx
    import msgspec
    from sqlalchemy.engine import make_url
    from uuid_utils.compat import uuid7
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("AMEND_BENCH_REEXEC"):
        os.environ["AMEND_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
DATABASES = ("sqlite", "postgres")
REQUEST_TIMEOUT = 10.0  # seconds, per HTTP request
START_TIMEOUT = 60.0  # seconds for a server to answer, or for a CLI command to finish
ACTOR = "bench"  # the API key's name, which the app records as the event's actor_id
BARE_PATH = "/bare/orders/{order_id}/amendments"


# ---------------------------------------------------------------------------------------------------------------
# The statements one amendment runs. Each run captures what SQLAlchemy emits (bench/capture_amend_sql.py) and
# the raw-SQL mode replays that capture: reads verbatim with the order id, the four writes (matched against the
# templates below) with the values the app would write. The built-in lists are the capture as of this writing,
# used only when a capture fails or holds a statement the bench cannot replay.
# ---------------------------------------------------------------------------------------------------------------

_ORDER_COLUMNS = [
    "id", "code", "status", "version", "last_seq", "customer_id", "channel", "recipient_name", "recipient_phones",
    "address_line", "ward_code", "province_code", "shipping_fee", "shipping_payer", "discount_percent",
    "discount_reason", "paid", "subtotal", "discount_amount", "total", "cod_amount", "refund_due", "courier", "note",
    "merged_into_id", "split_from_id", "sa_orm_sentinel", "created_at", "updated_at",
]  # fmt: skip
_LINE_COLUMNS = [
    "order_id", "id", "position", "sku", "name", "size", "color", "unit_price", "quantity", "tryon_options", "kept",
    "sa_orm_sentinel",
]  # fmt: skip
_SHIPMENT_COLUMNS = [
    "order_id", "id", "courier", "client_code", "generation", "tracking_code", "status", "raw_status", "sync_state",
    "synced_version", "synced", "cod_amount", "fee", "last_error", "create_attempted", "lease_until", "status_at",
    "sa_orm_sentinel", "created_at", "updated_at",
]  # fmt: skip
_SELECT_ORDER = "SELECT " + ", ".join(f"orders.{c}" for c in _ORDER_COLUMNS) + " FROM orders WHERE orders.id = "
_SELECT_LINES = (
    "SELECT "
    + ", ".join(f"order_lines.{c} AS order_lines_{c}" for c in _LINE_COLUMNS)
    + " FROM order_lines WHERE order_lines.order_id IN ({}) ORDER BY order_lines.position"
)
_SELECT_SHIPMENT = (
    "SELECT "
    + ", ".join(f"shipments.{c} AS shipments_{c}" for c in _SHIPMENT_COLUMNS)
    + " FROM shipments WHERE shipments.order_id IN ({})"
)
_SELECT_MERGED = "SELECT orders.merged_into_id, orders.id FROM orders WHERE orders.merged_into_id IN ({})"
_EVENT_COLUMNS = (
    "id, order_id, seq, at, actor_kind, actor_id, type, reason, operations, changes, cod_before, cod_after, version"
)
_OUTBOX_COLUMNS = (
    "id, topic, {key}, payload, created_at, available_at, attempts, locked_until, processed_at, last_error"
)
_TSTZ = "TIMESTAMP WITH TIME ZONE"
# The columns the raw-SQL mode reads from the two SELECTs it interprets (found by name in the captured SELECT).
_ORDER_NEEDS = ("version", "shipping_fee", "shipping_payer", "discount_percent", "paid")
_LINE_NEEDS = ("id", "sku", "name", "size", "color", "unit_price", "quantity", "tryon_options", "kept")
WRITES = ("update_order", "insert_event", "insert_outbox", "update_line")
READS = ("order", "lines", "read")
# The columns each write may set: the bench computes these values (see write_values); any other column in a
# captured write makes the capture unreplayable.
WRITABLE = {
    "update_order": {
        "version", "last_seq", "subtotal", "discount_amount", "total", "cod_amount", "refund_due", "updated_at",
    },
    "insert_event": {
        "id", "order_id", "seq", "at", "actor_kind", "actor_id", "type", "reason", "operations", "changes",
        "cod_before", "cod_after", "version",
    },
    "insert_outbox": {
        "id", "topic", "key", "payload", "created_at", "available_at", "attempts", "locked_until", "processed_at",
        "last_error",
    },
    "update_line": {"quantity"},
}  # fmt: skip
_UPDATE = re.compile(r"^UPDATE (\w+) SET (.+) WHERE (\w+)\.id = (\?|\$\d+::UUID)$")
_INSERT = re.compile(r"^INSERT INTO (\w+) \((.+?)\) VALUES \((.+)\)$")
_WRITE_KINDS = {("UPDATE", "orders"): "update_order", ("UPDATE", "order_lines"): "update_line",
                ("INSERT", "order_events"): "insert_event", ("INSERT", "outbox"): "insert_outbox"}  # fmt: skip


def _pg_params(*types: str) -> str:
    return ", ".join(f"${i}::{t}" for i, t in enumerate(types, 1))


def _classify_write(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """("update_order", ("version", ...)) for a write the bench knows, by table; None otherwise."""
    if (update := _UPDATE.match(sql)) and update[1] == update[3]:
        kind = _WRITE_KINDS.get(("UPDATE", update[1]))
        columns = tuple(part.split("=", 1)[0].strip() for part in update[2].split(", "))
    elif insert := _INSERT.match(sql):
        kind = _WRITE_KINDS.get(("INSERT", insert[1]))
        columns = tuple(part.strip().strip('"') for part in insert[2].split(", "))
    else:
        return None
    return (kind, columns) if kind is not None else None


@dataclass(frozen=True)
class Dialect:
    """How one database's amendment looks in a capture."""

    name: str
    begin: str | None  # the BEGIN a capture shows; None when the driver begins implicitly (asyncpg)
    builtin: tuple[str, ...]  # the whole capture as of this writing

    def one_parameter(self, statement: str) -> bool:
        if self.name == "sqlite":
            return statement.count("?") == 1
        return "$1" in statement and "$2" not in statement


SQLITE = Dialect(
    name="sqlite",
    begin="BEGIN IMMEDIATE",
    builtin=(
        "BEGIN IMMEDIATE",
        _SELECT_ORDER + "?",
        _SELECT_LINES.format("?"),
        _SELECT_SHIPMENT.format("?"),
        "UPDATE orders SET version=?, last_seq=?, subtotal=?, total=?, cod_amount=?, updated_at=? WHERE orders.id = ?",
        f"INSERT INTO order_events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 13)})",
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS.format(key=chr(34) + 'key' + chr(34))}) VALUES ({', '.join('?' * 10)})",
        "UPDATE order_lines SET quantity=? WHERE order_lines.id = ?",
        _SELECT_MERGED.format("?"),
        "COMMIT",
    ),
)
POSTGRES = Dialect(
    name="postgres",
    begin=None,
    builtin=(
        _SELECT_ORDER + "$1::UUID FOR UPDATE",
        _SELECT_LINES.format("$1::UUID"),
        _SELECT_SHIPMENT.format("$1::UUID"),
        "UPDATE orders SET version=$1::INTEGER, last_seq=$2::INTEGER, subtotal=$3::BIGINT, total=$4::BIGINT, "
        f"cod_amount=$5::BIGINT, updated_at=$6::{_TSTZ} WHERE orders.id = $7::UUID",
        f"INSERT INTO order_events ({_EVENT_COLUMNS}) VALUES ("
        + _pg_params("UUID", "UUID", "INTEGER", _TSTZ, "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "JSONB", "JSONB")
        + ", $11::BIGINT, $12::BIGINT, $13::INTEGER)",
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS.format(key='key')}) VALUES ("
        + _pg_params("UUID", "VARCHAR", "VARCHAR", "JSONB", _TSTZ, _TSTZ, "INTEGER", _TSTZ, _TSTZ, "VARCHAR")
        + ")",
        "UPDATE order_lines SET quantity=$1::INTEGER WHERE order_lines.id = $2::UUID",
        _SELECT_MERGED.format("$1::UUID"),
        "COMMIT",
    ),
)


@dataclass(frozen=True)
class Replay:
    """The statements the raw-SQL mode issues per amendment: (kind, SQL, bound columns), and their source."""

    steps: tuple[tuple[str, str, tuple[str, ...]], ...]
    order_columns: dict[str, int]
    line_columns: dict[str, int]
    source: str  # "capture" or "built-in"


def _select_columns(statement: str) -> dict[str, int]:
    """{column name: position} of a SELECT as SQLAlchemy writes it ("t.c" or "t.c AS t_c")."""
    select_list = statement[len("SELECT ") : statement.index(" FROM ")]
    names = [item.split(" AS ")[0].rsplit(".", 1)[-1].strip() for item in select_list.split(", ")]
    return {name: i for i, name in enumerate(names)}


def build_replay(statements: Sequence[str], dialect: Dialect, source: str) -> tuple[Replay | None, list[str]]:
    """Classify each statement; return the replay, or None and what stops the bench from replaying it."""
    problems: list[str] = []
    steps: list[tuple[str, str, tuple[str, ...]]] = []
    for sql in statements:
        columns: tuple[str, ...] = ()
        if sql == "COMMIT":
            kind = "commit"
        elif dialect.begin is not None and sql == dialect.begin:
            kind = "begin"
        elif (write := _classify_write(sql)) is not None:
            kind, columns = write
            unknown = sorted(set(columns) - WRITABLE[kind])
            if unknown:
                problems.append(f"{kind} sets {', '.join(unknown)}, which the bench does not compute: {sql[:200]}")
        elif sql.startswith("SELECT ") and " FROM " in sql and dialect.one_parameter(sql):
            if " FROM orders WHERE orders.id = " in sql:
                kind = "order"
            elif " FROM order_lines WHERE order_lines.order_id IN (" in sql:
                kind = "lines"
            else:
                kind = "read"  # replayed verbatim with the order id
        else:
            problems.append(f"cannot replay: {sql[:300]}")
            continue
        steps.append((kind, sql, columns))
    found = [kind for kind, _, _ in steps]
    expected_once = [*WRITES, "order", "lines", "commit", *(["begin"] if dialect.begin else [])]
    problems += [
        f"expected one {kind!r} statement, found {found.count(kind)}"
        for kind in expected_once
        if found.count(kind) != 1
    ]
    if problems:
        return None, problems
    if found[-1] != "commit" or (dialect.begin and found[0] != "begin"):
        problems.append("BEGIN must come first and COMMIT last")
    first_write = min(found.index(kind) for kind in WRITES)
    if found.index("order") > first_write or found.index("lines") > first_write:
        problems.append("the order and its lines must be read before the first write")
    by_kind = {kind: sql for kind, sql, _ in steps}
    order_columns, line_columns = _select_columns(by_kind["order"]), _select_columns(by_kind["lines"])
    needs = [*_ORDER_NEEDS, *(["last_seq"] if "last_seq" in dict((k, c) for k, _, c in steps)["update_order"] else [])]
    problems += [f"the order SELECT lacks {c}" for c in needs if c not in order_columns]
    problems += [f"the lines SELECT lacks {c}" for c in _LINE_NEEDS if c not in line_columns]
    if problems:
        return None, problems
    return Replay(tuple(steps), order_columns, line_columns, source), []


def choose_replay(
    captured: list[str] | None, dialect: Dialect, capture_error: str | None
) -> tuple[Replay, dict[str, Any]]:
    """Replay the capture when possible, else the built-in list; describe the choice for the report."""
    check: dict[str, Any] = {
        "builtin_matches_capture": None if captured is None else tuple(captured) == dialect.builtin
    }
    if capture_error is not None:
        check["capture_error"] = capture_error
    if captured is not None:
        check["captured"] = captured
        replay, problems = build_replay(captured, dialect, "capture")
        if replay is not None:
            check["replayed"], check["statements"] = "capture", len(replay.steps)
            return replay, check
        check["problems"] = problems
    replay, problems = build_replay(dialect.builtin, dialect, "built-in")
    if replay is None:  # a bug in the lists above
        raise RuntimeError(f"the built-in {dialect.name} statements do not replay: {problems}")
    check["replayed"], check["statements"] = "built-in", len(replay.steps)
    return replay, check


# ---------------------------------------------------------------------------------------------------------------
# Orders and the domain arithmetic the raw-SQL mode needs (mirrors orders_service.domain.money and .diff).
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class BenchOrder:
    """An order created for the run; only the worker that owns it touches it."""

    id: UUID
    line_id: UUID
    version: int
    quantity: int

    def next_quantity(self) -> int:
        return self.quantity % 5 + 1  # 1..5, always a change


@dataclass(frozen=True)
class Plan:
    """The values one amendment writes."""

    version: int
    seq: int
    quantity: int
    totals: dict[str, int]
    cod_before: int
    operations: str
    changes: str
    payload: str


class StepError(Exception):
    """An amendment that did not succeed: `label` is what the error count shows, `detail` an optional sample."""

    def __init__(self, label: str, detail: str | None = None) -> None:
        super().__init__(label)
        self.label, self.detail = label, detail


def _totals(lines: Sequence[dict[str, Any]], fee: int, payer: str, percent: int, paid: int) -> dict[str, int]:
    subtotal = sum((line.get("unit_price") or 0) * line["quantity"] for line in lines)
    discount = subtotal * percent // 100
    total = subtotal - discount + (fee if payer == "customer" else 0)
    return {
        "subtotal": subtotal,
        "discount_amount": discount,
        "total": total,
        "cod_amount": max(0, total - paid),
        "refund_due": max(0, paid - total),
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _line_view(row: Sequence[Any], columns: dict[str, int]) -> dict[str, Any]:
    """An order_lines row as domain.diff shows a line: no id, no None values, JSON decoded."""
    view = {
        "sku": row[columns["sku"]],
        "name": row[columns["name"]],
        "quantity": row[columns["quantity"]],
        "size": row[columns["size"]],
        "color": row[columns["color"]],
        "unit_price": row[columns["unit_price"]],
        "tryon_options": _json(row[columns["tryon_options"]]),
        "kept": _json(row[columns["kept"]]),
    }
    return {k: v for k, v in view.items() if v is not None}


def plan_amendment(
    order: BenchOrder, order_row: Sequence[Any], line_rows: Sequence[Sequence[Any]], replay: Replay
) -> Plan:
    """Check the version as the app does (If-Match), then compute the new totals, the event and the outbox."""
    o, li = replay.order_columns, replay.line_columns
    if order_row[o["version"]] != order.version:
        raise StepError("version mismatch")
    line_ids = [_as_uuid(row[li["id"]]) for row in line_rows]
    if order.line_id not in line_ids:
        raise StepError("line not found")
    quantity = order.next_quantity()
    before = [_line_view(row, li) for row in line_rows]
    after = [
        dict(view, quantity=quantity) if i == order.line_id else view for i, view in zip(line_ids, before, strict=True)
    ]
    money = (order_row[o["shipping_fee"]], order_row[o["shipping_payer"]], order_row[o["discount_percent"]])
    old, new = _totals(before, *money, order_row[o["paid"]]), _totals(after, *money, order_row[o["paid"]])
    index = line_ids.index(order.line_id)
    changes: dict[str, Any] = {f"lines.{order.line_id}": {"before": before[index], "after": after[index]}}
    changes.update({k: {"before": old[k], "after": new[k]} for k in old if old[k] != new[k]})
    version = order.version + 1
    # Events are numbered by orders.last_seq where the schema has it (migration 0003), else by version.
    seq = order_row[o["last_seq"]] + 1 if "last_seq" in o else version
    operations = [{"op": "set_quantity", "line_id": str(order.line_id), "quantity": quantity}]
    payload = {
        "order_id": str(order.id),
        "version": version,
        "cod_amount": new["cod_amount"],
        "changed": sorted(changes),
    }
    return Plan(
        version=version,
        seq=seq,
        quantity=quantity,
        totals=new,
        cod_before=old["cod_amount"],
        operations=json.dumps(operations),
        changes=json.dumps(changes),
        payload=json.dumps(payload),
    )


def write_values(
    kind: str, columns: tuple[str, ...], plan: Plan, order: BenchOrder, now: Any, sqlite: bool
) -> tuple[Any, ...]:
    """A write's parameters, by column name, bound as SQLAlchemy binds them (GUIDs: 16 bytes on SQLite)."""

    def uid(value: UUID) -> Any:
        return value.bytes if sqlite else str(value)

    if kind == "update_line":
        return (plan.quantity, uid(order.line_id))
    if kind == "update_order":
        values = {"version": plan.version, "last_seq": plan.seq, "updated_at": now, **plan.totals}
        return (*(values[c] for c in columns), uid(order.id))
    if kind == "insert_event":
        values = {
            "id": uid(uuid7()), "order_id": uid(order.id), "seq": plan.seq, "at": now, "actor_kind": "staff",
            "actor_id": ACTOR, "type": "amended", "reason": None, "operations": plan.operations,
            "changes": plan.changes, "cod_before": plan.cod_before, "cod_after": plan.totals["cod_amount"],
            "version": plan.version,
        }  # fmt: skip
    else:
        values = {
            "id": uid(uuid7()), "topic": "order.amended", "key": str(order.id), "payload": plan.payload,
            "created_at": now, "available_at": now, "attempts": 0, "locked_until": None, "processed_at": None,
            "last_error": None,
        }  # fmt: skip
    return tuple(values[c] for c in columns)


def _as_uuid(value: Any) -> UUID:
    """A GUID column's value: 16 bytes on SQLite, asyncpg's own UUID type on PostgreSQL."""
    return UUID(bytes=bytes(value)) if isinstance(value, bytes | memoryview) else UUID(str(value))


def _sqlite_time(moment: datetime.datetime) -> str:
    """How SQLAlchemy's SQLite DATETIME stores an (UTC) DateTimeUTC value."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------------------------------------------------------
# Load driver: closed loop, fixed concurrency, warm-up, then a measured window.
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class CpuSample:
    wall: float
    bench: float
    server: float | None
    system_busy: float | None
    system_total: float | None


def _proc_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _system_cpu() -> tuple[float, float] | tuple[None, None]:
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None, None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return float(total - idle), float(total)


def _cpu_sample(server_pid: int | None) -> CpuSample:
    times = os.times()
    busy, total = _system_cpu()
    return CpuSample(
        wall=time.perf_counter(),
        bench=times.user + times.system,
        server=None if server_pid is None else _proc_cpu_seconds(server_pid),
        system_busy=busy,
        system_total=total,
    )


def _cpu_use(a: CpuSample, b: CpuSample) -> dict[str, float | None]:
    """CPU use between two samples: processes in % of one core, the whole machine in % of all cores."""
    wall = max(b.wall - a.wall, 1e-9)
    server = None if a.server is None or b.server is None else round(100 * (b.server - a.server) / wall, 1)
    system = None
    if a.system_busy is not None and b.system_busy is not None and a.system_total is not None and b.system_total:
        system = round(100 * (b.system_busy - a.system_busy) / max(b.system_total - a.system_total, 1e-9), 1)
    return {
        "bench_process_pct": round(100 * (b.bench - a.bench) / wall, 1),
        "server_process_pct": server,
        "system_pct": system,
    }


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1], 3)


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

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "mode": self.mode,
            "db": self.db,
            "amendments_per_s": round(self.rate, 1),
            "ok": self.ok,
            "errors": dict(self.errors),
            "error_count": sum(self.errors.values()),
            "error_samples": self.error_samples,
            "measured_seconds": round(self.seconds, 3),
            "latency_ms": {
                "p50": _percentile(ordered, 50),
                "p90": _percentile(ordered, 90),
                "p99": _percentile(ordered, 99),
                "p99_9": _percentile(ordered, 99.9),
                "max": round(ordered[-1], 3) if ordered else None,
                "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
            },
            "cpu": self.cpu,
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
        cpu.append(_cpu_sample(server_pid))
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        cpu.append(_cpu_sample(server_pid))

    tasks = [asyncio.create_task(worker(i)) for i in range(len(owned))]
    tasks.append(asyncio.create_task(sampler()))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=warmup + duration + REQUEST_TIMEOUT + 10)
    except TimeoutError:
        errors["stuck at the end (cancelled)"] += 1
    usage = _cpu_use(cpu[0], cpu[1]) if len(cpu) == 2 else {}
    return LoadResult(mode, db, ok, duration, latencies, errors, samples, usage)


def split_orders(orders: list[BenchOrder], concurrency: int) -> list[list[BenchOrder]]:
    """Worker i owns orders i, i+C, i+2C, ... (so two workers never amend the same order)."""
    return [orders[i::concurrency] for i in range(concurrency)]


# ---------------------------------------------------------------------------------------------------------------
# Subprocesses: the real server, the bare app, the CLI.
# ---------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_path() -> str:
    for candidate in (REPO / ".venv" / "bin" / "orders-service", Path(sys.executable).parent / "orders-service"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("orders-service")
    if found is None:
        raise SystemExit("orders-service not found: install the project into .venv (pip install -e .)")
    return found


def make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open_log(path: Path) -> Any:
    return path.open("wb")


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\b.*")


def server_exceptions(log: Path) -> dict[str, Any]:
    """The exception lines of a server log (the last line of each traceback), counted."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return {}
    found = Counter(m[0][:300] for line in text.splitlines() if (m := _EXCEPTION_LINE.match(line)))
    return {"server_exceptions": dict(found.most_common(10))} if found else {}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.asynccontextmanager
async def running(
    argv: list[str], env: dict[str, str], log: Path, cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start argv in its own process group; yield it; always stop it (SIGTERM to the group, then SIGKILL)."""
    handle = _open_log(log)
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=handle, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        handle.close()


async def wait_ready(
    proc: asyncio.subprocess.Process, log: Path, probe: Callable[[], Awaitable[httpx.Response]]
) -> None:
    """Poll `probe` until it answers 200; fail early, with the log, if the server exits."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before it answered; its log:\n{_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if (await probe()).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT:.0f} s; its log:\n{_tail(log)}")


async def run_command(argv: list[str], env: dict[str, str], cwd: Path, limit_s: float = START_TIMEOUT) -> str:
    """Run a command to completion (bounded); return its stdout, or raise with its output."""
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=limit_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise RuntimeError(f"{' '.join(argv)} took more than {limit_s:.0f} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    return out.decode()


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


# ---------------------------------------------------------------------------------------------------------------
# Mode 1: the real server.
# ---------------------------------------------------------------------------------------------------------------

_HCMC, _BEN_THANH = 79, 26743


def order_payload(phone: str) -> dict[str, Any]:
    """A valid POST /api/orders body (as tests/integration/api.py builds it), one line of quantity 1."""
    return {
        "customer": {"full_name": "Nguyễn Thị Lan", "phones": [phone]},
        "channel": "website",
        "recipient": {
            "name": "Nguyễn Thị Lan",
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": _BEN_THANH, "province_code": _HCMC},
        },
        "lines": [
            {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
        ],
        "shipping": {"fee": 30000, "payer": "customer"},
    }


def unique_phones(count: int) -> list[str]:
    """Distinct random mobiles 090..098 + 7 digits (phonenumbers rejects some 099 numbers)."""
    phones: set[str] = set()
    while len(phones) < count:
        phones.add("09" + random.choice("012345678") + "".join(random.choices("0123456789", k=7)))
    return sorted(phones)


SETUP_CONCURRENCY = 4  # orders are created by at most this many requests at a time
SETUP_ATTEMPTS = 5  # and each is retried on a 5xx or a transport error: setup is not what is measured


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


async def capture_amendment_sql(env: dict[str, str], key: str, work: Path) -> list[str]:
    """What SQLAlchemy sends for one amendment, from bench/capture_amend_sql.py in a subprocess."""
    argv = [sys.executable, str(BENCH_DIR / "capture_amend_sql.py"), "--key", key]
    # Without the embedded outbox relay, whose own statements would otherwise land in the capture.
    out = await run_command(argv, {**env, "ORDERS_RELAY": "off"}, work)
    for line in reversed(out.splitlines()):
        if line.startswith('{"statements"'):
            return list(json.loads(line)["statements"])
    raise RuntimeError(f"capture_amend_sql.py printed no statements: {out[-500:]}")


@dataclass
class HttpPhase:
    orders: list[BenchOrder]
    http: LoadResult
    replay: Replay
    sql_check: dict[str, Any]
    server: dict[str, Any]  # setup retries and the exceptions the server logged


async def http_phase(db: str, env: dict[str, str], work: Path, args: argparse.Namespace) -> HttpPhase:
    """Start the real server on the database in env, make a key and the orders, check the SQL, load it."""
    make_dir(work)
    port = free_port()
    log = work / "server.log"
    argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with running(argv, env, log, work) as server:
        base = f"http://127.0.0.1:{port}"
        async with http_client(base, args.concurrency, None) as probe:
            await wait_ready(server, log, lambda: probe.get("/health"))
        key_output = await run_command([cli_path(), "keys", "create", "--name", ACTOR, "--role", "staff"], env, work)
        key = key_output.strip().splitlines()[-1].strip()
        async with load_clients(base, args, key) as clients:
            client = clients[0]
            print(f"  {db}: creating {args.orders} orders through POST /api/orders ...", flush=True)
            orders, retries = await create_orders(client, args.orders, args.concurrency)
            print(f"  {db}: capturing the SQL one amendment runs ...", flush=True)
            captured, error = None, None
            try:
                captured = await capture_amendment_sql(env, key, work)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
            replay, sql_check = choose_replay(captured, SQLITE if db == "sqlite" else POSTGRES, error)
            print(f"  {db}: HTTP amendments for {args.duration:g} s at concurrency {args.concurrency} ...", flush=True)
            result = await http_load(clients, server.pid, orders, args, db)
        logged = server_exceptions(log)  # before the server is stopped, which may log cancellations
    return HttpPhase(orders, result, replay, sql_check, {"create_retries": retries, **logged})


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
        print(f"  bare: POST {BARE_PATH} for {args.duration:g} s at concurrency {args.concurrency} ...", flush=True)
        return await run_load(
            "bare", None, step, split_orders(orders, args.concurrency), args.duration, args.warmup, server.pid
        )


# ---------------------------------------------------------------------------------------------------------------
# Mode 3: the same statements through the driver.
# ---------------------------------------------------------------------------------------------------------------

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous={synchronous}",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


async def raw_sqlite(db_path: Path, orders: list[BenchOrder], replay: Replay, args: argparse.Namespace) -> LoadResult:
    """aiosqlite, one connection per worker, set up as orders_service.db.engine sets up its connections."""
    connections: list[aiosqlite.Connection] = []
    try:
        for _ in range(args.concurrency):
            conn = await aiosqlite.connect(str(db_path), isolation_level=None)
            connections.append(conn)
            for pragma in SQLITE_PRAGMAS:
                await conn.execute(pragma.format(synchronous=sqlite_synchronous(args.server_env)))
        versions = {
            _as_uuid(r[0]): r[1] for r in await connections[0].execute_fetchall("SELECT id, version FROM orders")
        }
        lines = await connections[0].execute_fetchall("SELECT id, quantity FROM order_lines")
        _refresh(orders, versions, {_as_uuid(r[0]): r[1] for r in lines})

        async def step(index: int, order: BenchOrder) -> None:
            conn, order_id = connections[index], (order.id.bytes,)
            order_row: Any = None
            line_rows: list[Any] = []
            plan: Plan | None = None
            now = ""
            try:
                for kind, sql, columns in replay.steps:
                    if kind == "begin":
                        await conn.execute(sql)
                    elif kind == "commit":
                        await conn.commit()
                    elif kind in READS:
                        rows = list(await conn.execute_fetchall(sql, order_id))
                        if kind == "order":
                            order_row = rows[0] if rows else None
                        elif kind == "lines":
                            line_rows = rows
                    else:
                        if plan is None:
                            if order_row is None:
                                raise StepError("order not found")
                            plan = plan_amendment(order, order_row, line_rows, replay)
                            now = _sqlite_time(datetime.datetime.now(datetime.UTC))
                        await conn.execute(sql, write_values(kind, columns, plan, order, now, sqlite=True))
            except BaseException:
                await conn.rollback()
                raise
            if plan is not None:
                order.version, order.quantity = plan.version, plan.quantity

        print(f"  sqlite: raw SQL through aiosqlite for {args.duration:g} s ...", flush=True)
        owned = split_orders(orders, args.concurrency)
        return await run_load("raw-sql", "sqlite", step, owned, args.duration, args.warmup)
    finally:
        for conn in connections:
            await conn.close()


def _refresh(orders: list[BenchOrder], versions: dict[UUID, int], quantities: dict[UUID, int]) -> None:
    """Start the raw-SQL mode from what the HTTP mode left in the database."""
    for order in orders:
        order.version, order.quantity = versions[order.id], quantities[order.line_id]


async def raw_postgres(dsn: str, orders: list[BenchOrder], replay: Replay, args: argparse.Namespace) -> LoadResult:
    """asyncpg, one connection per worker; asyncpg prepares and caches statements as SQLAlchemy's adapter does."""
    connections: list[asyncpg.Connection] = []
    try:
        for _ in range(args.concurrency):
            connections.append(await asyncpg.connect(dsn, timeout=START_TIMEOUT))
        versions = {_as_uuid(r[0]): r[1] for r in await connections[0].fetch("SELECT id, version FROM orders")}
        lines = await connections[0].fetch("SELECT id, quantity FROM order_lines")
        _refresh(orders, versions, {_as_uuid(r[0]): r[1] for r in lines})

        async def step(index: int, order: BenchOrder) -> None:
            conn, order_id = connections[index], str(order.id)
            order_row: Any = None
            line_rows: list[Any] = []
            plan: Plan | None = None
            now = datetime.datetime.now(datetime.UTC)
            transaction = conn.transaction()  # BEGIN, as SQLAlchemy's asyncpg adapter does on the first statement
            await transaction.start()
            try:
                for kind, sql, columns in replay.steps:
                    if kind == "commit":
                        await transaction.commit()
                    elif kind in READS:
                        rows = await conn.fetch(sql, order_id)
                        if kind == "order":
                            order_row = rows[0] if rows else None
                        elif kind == "lines":
                            line_rows = rows
                    elif kind != "begin":
                        if plan is None:
                            if order_row is None:
                                raise StepError("order not found")
                            plan = plan_amendment(order, order_row, line_rows, replay)
                            now = datetime.datetime.now(datetime.UTC)
                        await conn.execute(sql, *write_values(kind, columns, plan, order, now, sqlite=False))
            except BaseException:
                if not conn.is_closed() and conn.is_in_transaction():
                    await transaction.rollback()
                raise
            if plan is not None:
                order.version, order.quantity = plan.version, plan.quantity

        print(f"  postgres: raw SQL through asyncpg for {args.duration:g} s ...", flush=True)
        owned = split_orders(orders, args.concurrency)
        return await run_load("raw-sql", "postgres", step, owned, args.duration, args.warmup)
    finally:
        for conn in connections:
            await conn.close(timeout=5)


# ---------------------------------------------------------------------------------------------------------------
# Per database.
# ---------------------------------------------------------------------------------------------------------------


def server_env(data_dir: Path, database_url: str | None, extra: dict[str, str]) -> dict[str, str]:
    """The server's and the CLI's environment: ours without any ORDERS_* or DATABASE_URL (so nothing inherited,
    such as courier credentials, changes what is measured or reaches beyond loopback), plus the data dir, the
    database and --server-env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    env.pop("AMEND_BENCH_REEXEC", None)
    env["ORDERS_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def sqlite_synchronous(extra: dict[str, str]) -> str:
    """The synchronous setting the server's engine uses (orders_service.db.engine), for the raw-SQL mode too."""
    value = extra.get("ORDERS_SQLITE_SYNCHRONOUS", "FULL").upper()
    return value if value in {"FULL", "NORMAL"} else "FULL"


def ratios(http: LoadResult, bare: LoadResult | None, raw: LoadResult | None) -> dict[str, float | None]:
    return {
        "http_over_bare": round(http.rate / bare.rate, 4) if bare and bare.rate else None,
        "http_over_raw_sql": round(http.rate / raw.rate, 4) if raw and raw.rate else None,
    }


async def bench_sqlite(args: argparse.Namespace, work: Path, bare: LoadResult | None) -> dict[str, Any]:
    data_dir = work / "sqlite-data"
    phase = await http_phase("sqlite", server_env(data_dir, None, args.server_env), work, args)
    raw = await raw_sqlite(data_dir / "orders.db", phase.orders, phase.replay, args)
    return {
        "database": f"{data_dir / 'orders.db'} (deleted after the run)",
        "sqlite_synchronous": sqlite_synchronous(args.server_env),
        "sql_check": phase.sql_check,
        "server": phase.server,
        "results": [phase.http, raw],
        "ratios": ratios(phase.http, bare, raw),
    }


async def postgres_url(args: argparse.Namespace) -> tuple[str | None, str]:
    """The server's SQLAlchemy URL: --pg-url, else $PG, else deploy/postgres.sh start (idempotent)."""
    if args.pg_url:
        return args.pg_url, "--pg-url"
    if os.environ.get("PG"):
        return os.environ["PG"], "$PG"
    script = REPO / "deploy" / "postgres.sh"
    if not script.exists():
        return None, f"{script} not found"
    try:
        out = await run_command([str(script), "start"], dict(os.environ), REPO, limit_s=180)
    except RuntimeError as exc:
        return None, f"deploy/postgres.sh start failed: {exc}"
    lines = out.strip().splitlines()
    return (lines[-1].strip(), "deploy/postgres.sh start") if lines else (None, "deploy/postgres.sh printed nothing")


def asyncpg_dsn(url: str, database: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://...) as a plain libpq/asyncpg DSN for `database`."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


async def bench_postgres(args: argparse.Namespace, work: Path, bare: LoadResult | None, url: str) -> dict[str, Any]:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d_%H%M%S")
    name = f"bench_{stamp}_{os.getpid()}"
    admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
    try:
        server_version = await admin.fetchval("SHOW server_version")
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        database_url = make_url(url).set(drivername="postgresql+asyncpg", database=name)
        env = server_env(work / "pg-data", database_url.render_as_string(hide_password=False), args.server_env)
        phase = await http_phase("postgres", env, work, args)
        raw = await raw_postgres(asyncpg_dsn(url, name), phase.orders, phase.replay, args)
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    return {
        "database": f"{database_url.render_as_string(hide_password=True)} (dropped after the run)",
        "server_version": server_version,
        "sql_check": phase.sql_check,
        "server": phase.server,
        "results": [phase.http, raw],
        "ratios": ratios(phase.http, bare, raw),
    }


# ---------------------------------------------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in (
        "litestar",
        "sqlalchemy",
        "advanced-alchemy",
        "msgspec",
        "uvicorn",
        "httpx",
        "aiosqlite",
        "asyncpg",
    ):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["uvicorn_loop"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    found["uvicorn_http"] = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return found


def machine() -> dict[str, Any]:
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "usable_cpus": affinity, "cpu_model": model, "platform": platform.platform()}


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_table(rows: list[dict[str, Any]]) -> str:
    header = ("mode", "db", "amend/s", "p50 ms", "p99 ms", "ok", "errors", "bench %", "server %", "system %")
    lines = [header]
    for r in rows:
        lat, cpu = r["latency_ms"], r["cpu"]
        lines.append((
            r["mode"], r["db"] or "-", _fmt(r["amendments_per_s"]), _fmt(lat["p50"], 2), _fmt(lat["p99"], 2),
            str(r["ok"]), str(r["error_count"]), _fmt(cpu.get("bench_process_pct"), 0),
            _fmt(cpu.get("server_process_pct"), 0), _fmt(cpu.get("system_pct"), 0),
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        out.append("  ".join(cells))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render_ratios(report: dict[str, Any]) -> str:
    out = []
    for db, section in report["databases"].items():
        if "ratios" not in section:
            out.append(f"{db}: {section.get('skipped') or section.get('error')}")
            continue
        r = section["ratios"]
        out.append(
            f"{db}: HTTP/bare = {_fmt(r['http_over_bare'], 3)}   HTTP/raw-SQL = {_fmt(r['http_over_raw_sql'], 3)}"
        )
        check = section["sql_check"]
        if check["replayed"] == "capture":
            stale = "; the built-in list is out of date" if check["builtin_matches_capture"] is False else ""
            out.append(f"  raw-SQL replayed the {check['statements']} statements captured from the app{stale}")
        else:
            why = check.get("capture_error") or "; ".join(check.get("problems", []))
            out.append(f"  WARNING: raw-SQL used the built-in statements, not a capture of the app: {why[:500]}")
        server = section.get("server", {})
        if server.get("create_retries"):
            out.append(f"  setup: {server['create_retries']} order creations had to be retried")
        for line, count in server.get("server_exceptions", {}).items():
            out.append(f"  server logged {count}x: {line[:200]}")
    return "\n".join(out)


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {
        "benchmark": "amend_bench",
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": versions(),
        "machine": machine(),
        "parameters": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "orders": args.orders,
            "databases": args.db,
            "request_timeout_s": REQUEST_TIMEOUT,
            "server_env": args.server_env,
            "client": f"httpx.AsyncClient, {args.clients} ({args.concurrency} workers), in the bench process",
            "server": "uvicorn, 1 process, access_log=False, log_level=info (as `orders-service serve`)",
        },
        "bare": None,
        "databases": {},
    }
    failed = False
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="amend-bench-") as tmp:
        work = Path(tmp)
        print(f"amend_bench: {args.duration:g} s per mode (+{args.warmup:g} s warm-up), concurrency "
              f"{args.concurrency} ({args.clients} httpx client), {args.orders} orders, databases "
              f"{', '.join(args.db)}", flush=True)  # fmt: skip
        background = await background_cpu()
        report["machine"]["background_system_pct"] = background
        if background is not None and background > 15:
            print(f"  WARNING: the machine is already {background:.0f}% busy before the bench starts (other "
                  "processes); every figure below shares the CPUs with them", flush=True)  # fmt: skip
        bare: LoadResult | None = None
        try:
            bare = await bare_phase(args, work)
            rows.append(bare.summary())
            report["bare"] = bare.summary()
        except Exception as exc:
            failed = True
            report["bare"] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"  bare: FAILED: {exc}", flush=True)
        for db in args.db:
            section: dict[str, Any]
            try:
                if db == "sqlite":
                    section = await bench_sqlite(args, work / "sqlite", bare)
                else:
                    url, source = await postgres_url(args)
                    if url is None:
                        print(f"  postgres: SKIPPED, PostgreSQL could not be started: {source}", flush=True)
                        report["databases"][db] = {"skipped": f"PostgreSQL could not be started: {source}"}
                        continue
                    try:
                        await asyncio.wait_for(_check_pg(url), timeout=15)
                    except Exception as exc:
                        print(f"  postgres: SKIPPED, cannot connect to {source} URL: {exc}", flush=True)
                        report["databases"][db] = {"skipped": f"cannot connect ({source}): {exc}"}
                        continue
                    section = await bench_postgres(args, work / "postgres", bare, url)
                    report["versions"]["postgres"] = section["server_version"]
            except Exception as exc:
                failed = True
                print(f"  {db}: FAILED: {type(exc).__name__}: {exc}", flush=True)
                report["databases"][db] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
                continue
            section["results"] = [r.summary() for r in section["results"]]
            rows.extend(section["results"])
            report["databases"][db] = section
    report["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print()
    print(render_table(rows))
    print()
    print(render_ratios(report))
    path = write_report(args.results_dir, started, report)
    print(f"\nwrote {path}")
    return 1 if failed else 0


async def background_cpu(seconds: float = 1.0) -> float | None:
    """How busy the whole machine is (% of all CPUs) while the bench itself idles."""
    before = _cpu_sample(None)
    await asyncio.sleep(seconds)
    return _cpu_use(before, _cpu_sample(None))["system_pct"]


def write_report(results_dir: Path, started: datetime.datetime, report: dict[str, Any]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"amend-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


async def _check_pg(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
    await conn.close()


# ---------------------------------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------------------------------


def _bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g}")
        return value

    return parse


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if name in ("ORDERS_DATA_DIR", "DATABASE_URL"):
        raise argparse.ArgumentTypeError(f"{name} is set by the bench (a fresh database per run)")
    return name.strip(), value


def _databases(text: str) -> list[str]:
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in chosen if name not in DATABASES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown database {', '.join(map(repr, unknown)) or '(none)'}; give a comma list of {', '.join(DATABASES)}"
        )
    return list(dict.fromkeys(chosen))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="amend_bench.py",
        description="Amendments/s through HTTP vs a bare Litestar route vs the same SQL through the driver, "
        "on SQLite and PostgreSQL. Writes bench/results/amend-<timestamp>.json.",
    )
    parser.add_argument(
        "--duration", type=_bounded(float, 0.5, 120), default=10.0, help="seconds measured per mode [10]"
    )
    parser.add_argument("--warmup", type=_bounded(float, 0, 30), default=1.0, help="unmeasured seconds before each [1]")
    parser.add_argument("--concurrency", type=_bounded(int, 1, 256), default=16, help="concurrent requests [16]")
    parser.add_argument(
        "--orders", type=_bounded(int, 1, 10_000), default=200, help="orders to create per database [200]"
    )
    parser.add_argument("--db", type=_databases, default=list(DATABASES), help="comma list of sqlite,postgres [both]")
    parser.add_argument(
        "--clients",
        choices=("shared", "per-worker"),
        default="shared",
        help="one pooled httpx.AsyncClient for all workers, or one each [shared]",
    )
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument(
        "--server-env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server, e.g. ORDERS_RELAY=off (repeatable)",
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args(argv)
    args.server_env = dict(args.server_env)
    if args.orders < args.concurrency:
        parser.error(f"--orders ({args.orders}) must be at least --concurrency ({args.concurrency}): "
                     "each worker owns its own orders")  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
