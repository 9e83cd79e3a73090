"""Courier sync: how fast the outbox relay creates courier parcels, and how far behind amendments it runs.

One run starts ``orders-service serve`` (a subprocess, embedded default: the sandbox courier mounted at
/sandbox-courier and the outbox relay in the API process) on a fresh SQLite file, or a fresh PostgreSQL database
with ``--db postgres``, and measures, per courier delay (``--delay-ms``, set through the sandbox's /_faults):

1. **creates**: K orders are created and confirmed (setup), then shipped at once; the time until every shipment
   is synced gives courier creates/s through the whole path (ship -> outbox -> relay -> adapter -> sandbox API in
   process). The baseline is the same create request (the body the adapter sends) posted with httpx straight to
   /sandbox-courier/shipments on the same server, at concurrency 1 (what the relay has) and 8.
2. **lag**: an open-loop load of ``set_recipient`` amendments (a new name each) on the shipped orders; for each
   accepted amendment, the time from its 200 response until the courier holds that name (the courier's own
   ``updated_at``), the number of courier update calls per amendment (coalescing), and the errors.

It prints two tables and writes bench/results/sync-<timestamp>.json. See bench/README.md.

    .venv/bin/python bench/sync_bench.py [--orders 200] [--amend-rate 20] [--amend-seconds 20] [--delay-ms 0,100]
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
    import asyncpg
    import httpx
    from sqlalchemy.engine import make_url

    from couriers.base import Address, Item, Parcel
    from couriers.sandbox.adapter import _parcel_body
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("SYNC_BENCH_REEXEC"):
        os.environ["SYNC_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
REQUEST_TIMEOUT = 10.0  # seconds, per HTTP request (the adapter's own timeout is 10 s too)
START_TIMEOUT = 60.0  # seconds for the server to answer, or for a CLI command to finish
SANDBOX = "/sandbox-courier"
ACTOR = "bench"
SETUP_CONCURRENCY = 4
SETUP_ATTEMPTS = 5
_HCMC, _BEN_THANH = 79, 26743


# ---------------------------------------------------------------------------------------------------------------
# Small helpers: percentiles, CPU, clocks.
# ---------------------------------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1], 3)


def distribution(values: Sequence[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": round(ordered[-1], 3) if ordered else None,
        "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
    }


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
    return float(sum(values[:8]) - idle), float(sum(values[:8]))


def cpu_sample(server_pid: int | None) -> CpuSample:
    times = os.times()
    busy, total = _system_cpu()
    server = None if server_pid is None else _proc_cpu_seconds(server_pid)
    return CpuSample(time.perf_counter(), times.user + times.system, server, busy, total)


def cpu_use(a: CpuSample, b: CpuSample) -> dict[str, float | None]:
    """Processes in % of one core, the whole machine in % of all cores, and the server's CPU seconds."""
    wall = max(b.wall - a.wall, 1e-9)
    server_s = None if a.server is None or b.server is None else b.server - a.server
    system = None
    if None not in (a.system_busy, b.system_busy, a.system_total, b.system_total):
        span = max(b.system_total - a.system_total, 1e-9)  # type: ignore[operator]
        system = round(100 * (b.system_busy - a.system_busy) / span, 1)  # type: ignore[operator]
    return {
        "bench_process_pct": round(100 * (b.bench - a.bench) / wall, 1),
        "server_process_pct": None if server_s is None else round(100 * server_s / wall, 1),
        "server_cpu_s": None if server_s is None else round(server_s, 3),
        "system_pct": system,
    }


def parse_time(text: str) -> float:
    """An ISO 8601 timestamp from the server (UTC, 'Z') as seconds since the epoch, the clock time.time() reads."""
    return datetime.datetime.fromisoformat(text).timestamp()


# ---------------------------------------------------------------------------------------------------------------
# Subprocesses: the server and the CLI, each in its own process group, always stopped.
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


def server_env(data_dir: Path, database_url: str | None, extra: dict[str, str]) -> dict[str, str]:
    """Our environment without ORDERS_* and DATABASE_URL (nothing inherited reaches beyond loopback), plus the
    fresh data dir, the database and --server-env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    env.pop("SYNC_BENCH_REEXEC", None)
    env["ORDERS_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.asynccontextmanager
async def running(argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> AsyncIterator[Any]:
    """Start argv in its own process group; yield it; always stop it (SIGTERM to the group, then SIGKILL)."""
    handle = log.open("wb")
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
    finally:
        if proc.returncode is None:  # cancelled (Ctrl-C): do not leave it behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    return out.decode()


async def wait_ready(proc: Any, log: Path, client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before it answered; its log:\n{_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/health")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT:.0f} s; its log:\n{_tail(log)}")


_LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) - \S+ \S+ - ([\w.]+) - \S+ - (.*)$")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\b.*")
_COURIER_CALL = re.compile(r"HTTP Request: (\w+) http://sandbox\.internal/(\w+)(/[^/\s\"]+)?(/\w+)?")


def read_server_log(log: Path, start: int = 0) -> tuple[dict[str, Any], int]:
    """What the server logged from byte `start` on: warnings and errors (with samples), exception lines, and the
    relay's courier calls (the adapter's httpx logs one INFO line per request). Returns it and the end offset."""
    try:
        with log.open("rb") as handle:
            handle.seek(start)
            data = handle.read()
    except OSError:
        return {}, start
    levels: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    samples: list[str] = []
    for line in data.decode(errors="replace").splitlines():
        if match := _LOG_LINE.match(line):
            level, logger, message = match.groups()
            if level in ("WARNING", "ERROR", "CRITICAL"):
                levels[f"{level} {logger}"] += 1
                if len(samples) < 8:
                    samples.append(line[:300])
            if (call := _COURIER_CALL.search(message)) is not None:
                method, resource, code, action = call.groups()
                calls[f"{method} /{resource}{'/{code}' if code else ''}{action or ''}"] += 1
        elif _EXCEPTION_LINE.match(line):
            exceptions[line[:300]] += 1
    found: dict[str, Any] = {"courier_calls_logged": dict(calls)}
    if levels:
        found["warnings_and_errors"], found["samples"] = dict(levels), samples
    if exceptions:
        found["exception_lines"] = dict(exceptions.most_common(10))
    return found, start + len(data)


# ---------------------------------------------------------------------------------------------------------------
# The service through HTTP: orders, shipping, amendments, the sandbox courier.
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Amendment:
    order: BenchOrder
    name: str
    intended: float  # perf_counter when the open-loop schedule meant to send it
    sent: float = 0.0  # perf_counter
    responded: float = 0.0  # perf_counter
    responded_wall: float = 0.0  # time.time(), compared with the courier's updated_at
    version: int = 0
    lag_s: float | None = None  # courier holds this version (or a later one) - 200 response


@dataclass
class BenchOrder:
    id: UUID
    code: str
    version: int
    shipped_wall: float = 0.0  # time.time() of the ship response
    tracking: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    versions_by_name: dict[str, int] = field(default_factory=dict)
    pending: list[Amendment] = field(default_factory=list)
    last_name: str | None = None


def order_payload(phone: str) -> dict[str, Any]:
    """A valid POST /api/orders body (as amend_bench.py builds it): one line, a courier-ready address."""
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
    phones: set[str] = set()
    while len(phones) < count:
        phones.add("09" + random.choice("012345678") + "".join(random.choices("0123456789", k=7)))
    return sorted(phones)


def etag(response: httpx.Response) -> int:
    return int(response.headers["etag"].strip('"'))


async def _retrying(call: Callable[[], Awaitable[httpx.Response]], expect: int, what: str) -> httpx.Response:
    """Setup requests: retried on 5xx and transport errors (setup is not what is measured)."""
    problem = ""
    for attempt in range(1, SETUP_ATTEMPTS + 1):
        try:
            response = await call()
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == expect:
                return response
            problem = f"HTTP {response.status_code}: {response.text[:300]}"
            if response.status_code < 500:
                break
        await asyncio.sleep(0.2 * attempt)
    raise RuntimeError(f"{what} failed: {problem}")


async def create_confirmed_orders(api: httpx.AsyncClient, phones: list[str]) -> list[BenchOrder]:
    """Create and confirm one order per phone (at most SETUP_CONCURRENCY at a time)."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(phone: str) -> BenchOrder:
        async with gate:
            created = await _retrying(lambda: api.post("/api/orders", json=order_payload(phone)), 201, "create")
            body = created.json()
            order = BenchOrder(UUID(body["id"]), body["code"], etag(created))
            confirmed = await _retrying(
                lambda: api.post(f"/api/orders/{order.id}/confirm", headers={"If-Match": f'"{order.version}"'}),
                200,
                "confirm",
            )
            order.version = etag(confirmed)
            return order

    return list(await asyncio.gather(*(one(phone) for phone in phones)))


class Sandbox:
    """The sandbox courier's HTTP API on the running server (token from $ORDERS_DATA_DIR/secrets.json)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        self.client = httpx.AsyncClient(
            base_url=base_url + SANDBOX, headers=self.headers, limits=limits, timeout=REQUEST_TIMEOUT
        )

    async def faults(self) -> dict[str, Any]:
        response = await self.client.get("/_faults")
        response.raise_for_status()
        return dict(response.json())

    async def calls(self) -> Counter[str]:
        return Counter((await self.faults())["calls"])

    async def set_delay(self, delay_ms: int) -> None:
        response = await self.client.post("/_faults", json={"delay_ms": delay_ms})
        response.raise_for_status()

    async def shipment(self, tracking: str) -> dict[str, Any]:
        response = await self.client.get(f"/shipments/{tracking}")
        response.raise_for_status()
        return dict(response.json())

    async def aclose(self) -> None:
        await self.client.aclose()


def create_body(view: dict[str, Any], client_code: str) -> dict[str, Any]:
    """The body SandboxCourier.create sends for the parcel the courier holds (`view`), under a new client code:
    `_parcel_body(parcel) | {client_code, origin_province}`, built with the adapter's own function."""
    a = view["address"]
    parcel = Parcel(
        client_code=client_code,
        recipient_name=view["recipient_name"],
        phones=tuple(view["phones"]),
        address=Address(a["line"], a["ward_code"], a["province_code"], a["ward_name"], a["province_name"]),
        items=tuple(
            Item(i["sku"], i["name"], i["quantity"], i["unit_price"], i.get("size"), i.get("color"))
            for i in view["items"]
        ),
        cod_amount=view["cod_amount"],
        value=view["value"],
        fee_payer=view["fee_payer"],
        try_on=view["try_on"],
        weight_g=view["weight_g"],
        note=view["note"],
    )
    return _parcel_body(parcel) | {"client_code": parcel.client_code, "origin_province": view["origin_province"]}


async def list_shipments(api: httpx.AsyncClient, wanted: set[UUID]) -> dict[UUID, dict[str, Any]]:
    """GET /api/orders?status=ready_to_ship&limit=200, every page: {order id: order} for the wanted ids."""
    found: dict[UUID, dict[str, Any]] = {}
    offset = 0
    while True:
        response = await api.get("/api/orders", params={"status": "ready_to_ship", "limit": 200, "offset": offset})
        response.raise_for_status()
        page = response.json()
        for item in page["items"]:
            if (order_id := UUID(item["id"])) in wanted:
                found[order_id] = item
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"] or len(found) == len(wanted):
            return found


def synced(order: dict[str, Any]) -> bool:
    shipment = order.get("shipment") or {}
    return shipment.get("sync_state") == "synced" and (shipment.get("synced_version") or 0) >= order["version"]


# ---------------------------------------------------------------------------------------------------------------
# The outbox, read straight from the database (read-only): backlog and errors.
# ---------------------------------------------------------------------------------------------------------------

_OUTBOX_SQL = (
    "SELECT count(*), "
    "sum(CASE WHEN processed_at IS NULL THEN 1 ELSE 0 END), "
    "sum(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END), "
    "max(attempts) FROM outbox"
)
_ERRORS_SQL = "SELECT last_error, count(*) FROM outbox WHERE last_error IS NOT NULL GROUP BY last_error LIMIT 5"


class OutboxReader:
    def __init__(self, sqlite_path: Path | None = None, pg_dsn: str | None = None) -> None:
        self.sqlite_path, self.pg_dsn = sqlite_path, pg_dsn

    def _sqlite(self) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        conn = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(_OUTBOX_SQL).fetchone(), conn.execute(_ERRORS_SQL).fetchall()
        finally:
            conn.close()

    async def stats(self) -> dict[str, Any]:
        """Rows, rows not processed yet, rows that ever failed (last_error), the most attempts, error samples."""
        if self.sqlite_path is not None:
            row, errors = await asyncio.to_thread(self._sqlite)
        else:
            conn = await asyncpg.connect(self.pg_dsn, timeout=10)
            try:
                row, errors = await conn.fetchrow(_OUTBOX_SQL), await conn.fetch(_ERRORS_SQL)
            finally:
                await conn.close(timeout=5)
        total, pending, errored, attempts = (v or 0 for v in row)
        return {
            "rows": total,
            "unprocessed": pending,
            "with_last_error": errored,
            "max_attempts": attempts,
            "error_samples": {str(e)[:200]: n for e, n in errors},
        }

    async def wait_idle(self, limit_s: float) -> bool:
        """Until nothing is left to process (the relay drained what setup made); False after limit_s."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if (await self.stats())["unprocessed"] == 0:
                return True
            await asyncio.sleep(0.1)
        return False


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
    drain_cpu = cpu_use(cpu_shipped, cpu1)
    drain_ms_per_create = (
        round(1000 * drain_cpu["server_cpu_s"] / len(after_ship), 2)
        if after_ship and drain_cpu["server_cpu_s"] is not None
        else None
    )
    courier_span = created_at[-1] - created_at[0] if len(created_at) > 1 else None
    after_span = after_ship[-1] - shipped_wall if after_ship else None
    whole_cpu = cpu_use(cpu0, cpu1)
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
        usage = cpu_use(cpu0, cpu_sample(pid))
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
    usage = cpu_use(cpu0, cpu_sample(pid))
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


async def one_round(
    api: httpx.AsyncClient,
    sandbox: Sandbox,
    base_url: str,
    outbox: OutboxReader,
    phones: list[str],
    delay_ms: int,
    args: argparse.Namespace,
    pid: int,
    log: Path,
) -> dict[str, Any]:
    tag = f"d{delay_ms}"
    result: dict[str, Any] = {"delay_ms": delay_ms, "delay_jitter_ms": args.delay_jitter_ms if delay_ms else 0}
    print(f"  [{tag}] creating and confirming {len(phones)} orders (setup) ...", flush=True)
    orders = await create_confirmed_orders(api, phones)
    if not await outbox.wait_idle(60):
        print(f"  [{tag}] WARNING: the outbox still had unprocessed rows 60 s after setup", flush=True)
    _, log_offset = read_server_log(log)
    args.delay_ms_now = delay_ms
    stop = asyncio.Event()
    jitter: asyncio.Task[None] | None = None
    try:
        await sandbox.set_delay(delay_ms)
        if delay_ms and args.delay_jitter_ms:
            jitter = asyncio.create_task(jitter_delay(sandbox, delay_ms, args.delay_jitter_ms, stop))
        print(
            f"  [{tag}] shipping {len(orders)} orders at once, waiting until every shipment is synced ...", flush=True
        )
        result["relay"] = await ship_and_sync(api, sandbox, orders, args, pid)
        await outbox.wait_idle(30)  # the last settle: the raw baseline runs against an idle relay
        template_view = next((o for o in orders if o.tracking), None)
        result["raw"] = []
        if template_view is not None:
            template = create_body(await sandbox.shipment(template_view.tracking or ""), "template")
            for concurrency in args.raw_concurrency:
                print(f"  [{tag}] raw POST {SANDBOX}/shipments x{args.raw_creates}, concurrency {concurrency} ...",
                      flush=True)  # fmt: skip
                result["raw"].append(
                    await raw_creates(
                        base_url, sandbox, template, args.raw_creates, concurrency, f"RAW-{tag}-C{concurrency}", pid
                    )
                )
        relay_rate = result["relay"]["creates_per_s"]
        result["ratios"] = {
            f"sync_over_raw_c{r['concurrency']}": round(relay_rate / r["creates_per_s"], 4)
            if relay_rate and r["creates_per_s"]
            else None
            for r in result["raw"]
        }
        shipped = [o for o in orders if o.tracking is not None]
        result["lag"] = []
        if shipped:
            for burst in args.bursts:
                kind = "single edits" if burst == 1 else f"bursts of {burst}"
                print(f"  [{tag}] amendments {args.amend_rate:g}/s for {args.amend_seconds:g} s ({kind}) ...",
                      flush=True)  # fmt: skip
                result["lag"].append(
                    await amendment_lag(api, sandbox, outbox, shipped, burst, f"{tag}b{burst}", args, pid)
                )
    finally:
        stop.set()
        if jitter is not None:
            await jitter
        with contextlib.suppress(httpx.HTTPError):
            await sandbox.set_delay(0)
    result["outbox_after"] = await outbox.stats()
    result["server_log"], _ = read_server_log(log, log_offset)
    return result


async def run_server_rounds(
    args: argparse.Namespace, work: Path, env: dict[str, str], outbox: OutboxReader, data_dir: Path
) -> dict[str, Any]:
    port = free_port()
    log = work / "server.log"
    base_url = f"http://127.0.0.1:{port}"
    argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    rounds: list[dict[str, Any]] = []
    all_phones = unique_phones(args.orders * len(args.delay_ms))
    async with running(argv, env, log, work) as server:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as probe:
            await wait_ready(server, log, probe)
        out = await run_command([cli_path(), "keys", "create", "--name", ACTOR, "--role", "staff"], env, work)
        key = out.strip().splitlines()[-1].strip()
        token = json.loads((data_dir / "secrets.json").read_text())["sandbox_token"]
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        sandbox = Sandbox(base_url, token)
        try:
            async with httpx.AsyncClient(
                base_url=base_url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=REQUEST_TIMEOUT
            ) as api:
                for n, delay_ms in enumerate(args.delay_ms):
                    phones = all_phones[n * args.orders : (n + 1) * args.orders]
                    rounds.append(
                        await one_round(api, sandbox, base_url, outbox, phones, delay_ms, args, server.pid, log)
                    )
        finally:
            await sandbox.aclose()
        whole_log, _ = read_server_log(log)
    return {"rounds": rounds, "server_log": whole_log}


async def postgres_url(args: argparse.Namespace) -> str:
    if args.pg_url:
        return str(args.pg_url)
    if os.environ.get("PG"):
        return os.environ["PG"]
    script = REPO / "deploy" / "postgres.sh"
    if not script.exists():
        raise RuntimeError(f"{script} not found; pass --pg-url")
    out = await run_command([str(script), "start"], dict(os.environ), REPO, limit_s=180)
    lines = out.strip().splitlines()
    if not lines:
        raise RuntimeError("deploy/postgres.sh start printed nothing")
    return lines[-1].strip()


def asyncpg_dsn(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


async def run_database(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data_dir = work / "data"
    if args.db == "sqlite":
        env = server_env(data_dir, None, args.server_env)
        result = await run_server_rounds(args, work, env, OutboxReader(sqlite_path=data_dir / "orders.db"), data_dir)
        result["database"] = "sqlite (a fresh file, deleted after the run)"
        return result
    url = await postgres_url(args)
    name = f"syncbench_{datetime.datetime.now(datetime.UTC):%Y%m%d_%H%M%S}_{os.getpid()}"
    admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
    try:
        server_version = await admin.fetchval("SHOW server_version")
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        database_url = make_url(url).set(drivername="postgresql+asyncpg", database=name)
        env = server_env(data_dir, database_url.render_as_string(hide_password=False), args.server_env)
        result = await run_server_rounds(args, work, env, OutboxReader(pg_dsn=asyncpg_dsn(url, name)), data_dir)
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    result["database"] = f"{database_url.render_as_string(hide_password=True)} (dropped after the run)"
    result["postgres_server_version"] = server_version
    return result


# ---------------------------------------------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in ("orders-service", "litestar", "sqlalchemy", "advanced-alchemy", "msgspec", "uvicorn", "httpx",
                    "aiosqlite", "asyncpg"):  # fmt: skip
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


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    lines = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(c.ljust(widths[i]) if i < left else c.rjust(widths[i]) for i, c in enumerate(line)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render(report: dict[str, Any]) -> str:
    out: list[str] = []
    for rnd in report["result"].get("rounds", []):
        delay = f"courier delay {rnd['delay_ms']} ms" + (
            f" ± {rnd['delay_jitter_ms']} ms" if rnd.get("delay_jitter_ms") else ""
        )
        relay = rnd.get("relay")
        if relay:
            rows = [(
                "relay: ship -> synced", str(relay["synced"]), _f(relay["seconds_to_all_synced"], 2),
                _f(relay["creates_per_s"]), _f(relay["create_lag_ms"]["p50"], 0), _f(relay["create_lag_ms"]["p99"], 0),
                str(sum(relay["errors"].values())), _f(relay["cpu"]["server_process_pct"], 0),
                _f(relay["server_cpu_ms_per_create"], 2),
            ), (
                "  relay alone, after last ship", str(relay["creates_after_last_ship"]),
                _f(relay["drain_seconds_after_last_ship"], 2), _f(relay["creates_per_s_after_last_ship"]), "", "", "",
                _f(relay["cpu_after_last_ship"]["server_process_pct"], 0),
                _f(relay["server_cpu_ms_per_create_after_ship"], 2),
            )]  # fmt: skip
            for raw in rnd.get("raw", []):
                lat = raw["latency_ms"]
                rows.append((
                    raw["mode"], str(raw["creates"]), _f(raw["seconds"], 2), _f(raw["creates_per_s"]),
                    _f(lat["p50"], 1), _f(lat["p99"], 1), str(sum(raw["errors"].values())),
                    _f(raw["cpu"]["server_process_pct"], 0), _f(raw["server_cpu_ms_per_create"], 2),
                ))  # fmt: skip
            header = ("courier creates, " + delay, "creates", "seconds", "creates/s", "p50 ms", "p99 ms", "errors",
                      "server %", "srv CPU ms/create")  # fmt: skip
            out += [table(header, rows), ""]
            ratios = "   ".join(f"sync/raw(c={k.rsplit('c', 1)[1]}) = {_f(v, 3)}" for k, v in rnd["ratios"].items())
            out.append(f"  {ratios}")
            out.append(f"  ship: {relay['ship_seconds']:.2f} s for {relay['orders']} orders; all synced "
                       f"{relay['drain_seconds_after_last_ship']:.2f} s after the last ship answered; "
                       f"courier calls {relay['courier_calls']}")  # fmt: skip
            if relay["errors"]:
                out.append(f"  ERRORS: {relay['errors']}")
            out.append("")
        if rnd.get("lag"):
            rows = []
            for lag in rnd["lag"]:
                d = lag["lag_ms"]
                kind = "single edits" if lag["burst"] == 1 else f"bursts of {lag['burst']}"
                rows.append((
                    f"{_f(lag['rate_per_s'], 0)}/s {_f(lag['seconds'], 0)} s, {kind}", str(lag["accepted"]),
                    str(lag["courier_update_calls"]), _f(lag["update_calls_per_amendment"], 2), _f(d["p50"], 0),
                    _f(d["p95"], 0), _f(d["p99"], 0), _f(d["max"], 0), _f(lag["drain_seconds_after_load"], 2),
                    str(sum(lag["errors"].values())), _f(lag["cpu"]["server_process_pct"], 0),
                ))  # fmt: skip
            header = ("sync lag, " + delay, "amended", "updates", "upd/amend", "lag p50", "p95", "p99", "max ms",
                      "drain s", "errors", "server %")  # fmt: skip
            out += [table(header, rows), ""]
            capacity = (rnd.get("relay") or {}).get("creates_per_s_after_last_ship")
            if capacity:
                out.append(f"  amendment rate = {100 * rnd['lag'][0]['rate_per_s'] / capacity:.0f}% of the relay's own "
                           f"create rate above ({capacity:.1f}/s; an update costs about as much)")  # fmt: skip
            for lag in rnd["lag"]:
                late = lag["schedule_late_ms"]["p99"]
                note = f"  {lag['label']}: amend p50/p99 {_f(lag['amend_latency_ms']['p50'], 0)}/" \
                       f"{_f(lag['amend_latency_ms']['p99'], 0)} ms; schedule late p99 {_f(late, 0)} ms; " \
                       f"synced before the 200 arrived: {lag['lag_synced_before_response']}"  # fmt: skip
                out.append(note)
                empty = lag["outbox_empty_seconds_after_load"]
                out.append(f"    outbox backlog max {_f(lag['outbox_backlog_max'])}, "
                           f"{lag['outbox_unprocessed_when_courier_caught_up']} rows left when the courier had "
                           f"caught up, empty {_f(empty, 2)} s after the load")  # fmt: skip
                if lag["errors"]:
                    out.append(f"    ERRORS: {lag['errors']}")
                    out += [f"    {s}" for s in lag["error_samples"][:3]]
            out.append("")
        box = rnd.get("outbox_after", {})
        out.append(f"  outbox after the round: {box.get('rows')} rows, {box.get('unprocessed')} unprocessed, "
                   f"{box.get('with_last_error')} with last_error, max attempts {box.get('max_attempts')}")  # fmt: skip
        for text, count in box.get("error_samples", {}).items():
            out.append(f"    {count}x {text}")
        log = rnd.get("server_log", {})
        for what, count in log.get("warnings_and_errors", {}).items():
            out.append(f"  server logged {count}x {what}")
        for line, count in log.get("exception_lines", {}).items():
            out.append(f"  server logged {count}x: {line[:200]}")
        out.append("")
    return "\n".join(out)


def write_report(results_dir: Path, started: datetime.datetime, report: dict[str, Any]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"sync-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


def failures(report: dict[str, Any]) -> list[str]:
    found = []
    for rnd in report["result"].get("rounds", []):
        if rnd.get("relay", {}).get("errors"):
            found.append(f"delay {rnd['delay_ms']}: relay {rnd['relay']['errors']}")
        for raw in rnd.get("raw", []):
            if raw["errors"]:
                found.append(f"delay {rnd['delay_ms']}: {raw['mode']} {raw['errors']}")
        for lag in rnd.get("lag", []):
            if lag["errors"]:
                found.append(f"delay {rnd['delay_ms']}: lag {lag['label']} {lag['errors']}")
        if rnd.get("outbox_after", {}).get("unprocessed"):
            found.append(f"delay {rnd['delay_ms']}: outbox has {rnd['outbox_after']['unprocessed']} unprocessed rows")
    return found


def estimate_seconds(args: argparse.Namespace) -> float:
    per_round = 0.0
    for delay in args.delay_ms:
        call = delay / 1000 + 0.02
        per_round += args.orders * 0.05 + args.orders * (call + 0.04)  # setup, relay creates (one at a time)
        per_round += sum(args.raw_creates * call / c for c in args.raw_concurrency)
        per_round += len(args.bursts) * (args.amend_seconds + 3)
    return 8 + per_round


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {
        "benchmark": "sync_bench",
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": versions(),
        "machine": machine(),
        "parameters": {
            "db": args.db,
            "orders_per_round": args.orders,
            "ship_concurrency": args.ship_concurrency,
            "raw_concurrency": args.raw_concurrency,
            "raw_creates": args.raw_creates,
            "amend_rate_per_s": args.amend_rate,
            "amend_seconds": args.amend_seconds,
            "bursts": args.bursts,
            "delay_ms": args.delay_ms,
            "delay_jitter_ms": args.delay_jitter_ms,
            "poll_ms": args.poll_ms,
            "watch_rate_per_s": args.watch_rate,
            "drain_timeout_s": args.drain_timeout,
            "server_env": args.server_env,
            "server": "orders-service serve (uvicorn, 1 process), embedded relay and sandbox courier",
            "relay": "EmbeddedRelay: drain() every 0.2 s, batches of 50, one handler at a time (concurrency 1)",
        },
        "result": {},
    }
    print(f"sync_bench: {args.db}, {args.orders} orders per round, courier delay {args.delay_ms} ms, amendments "
          f"{args.amend_rate:g}/s for {args.amend_seconds:g} s, bursts {args.bursts}; about "
          f"{estimate_seconds(args):.0f} s", flush=True)  # fmt: skip
    before = cpu_sample(None)
    await asyncio.sleep(1)
    background = cpu_use(before, cpu_sample(None))["system_pct"]
    report["machine"]["background_system_pct"] = background
    if background is not None and background > 15:
        print(f"  WARNING: the machine is already {background:.0f}% busy before the bench starts", flush=True)
    status = 0
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        try:
            report["result"] = await run_database(args, Path(tmp))
        except Exception as exc:
            status = 1
            report["result"] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
            print(f"  FAILED: {type(exc).__name__}: {exc}", flush=True)
    if pg := report["result"].get("postgres_server_version"):
        report["versions"]["postgres"] = pg
    report["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    report["failures"] = failures(report)
    print()
    print(render(report))
    whole = report["result"].get("server_log", {})
    if whole.get("courier_calls_logged"):
        print(f"server log, whole run: relay courier calls {whole['courier_calls_logged']}")
    if report["failures"]:
        status = 1
        print("FAILURES:\n  " + "\n  ".join(report["failures"]))
    path = write_report(args.results_dir, started, report)
    print(f"\nwrote {path}")
    return status


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


def _int_list(low: int, high: int) -> Callable[[str], list[int]]:
    def parse(text: str) -> list[int]:
        values: list[int] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                value = int(part)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{part!r} is not an integer (give a comma list)") from None
            if not low <= value <= high:
                raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
            values.append(value)
        if not values:
            raise argparse.ArgumentTypeError("give at least one value")
        return list(dict.fromkeys(values))

    return parse


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if name.strip() in ("ORDERS_DATA_DIR", "DATABASE_URL"):
        raise argparse.ArgumentTypeError(f"{name} is set by the bench (a fresh database per run)")
    if name.strip() == "ORDERS_RELAY" and value != "embedded":
        raise argparse.ArgumentTypeError("this bench measures the embedded relay: ORDERS_RELAY must stay embedded")
    return name.strip(), value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sync_bench.py",
        description="Courier sync through the embedded outbox relay: creates/s vs raw calls to the same sandbox "
        "courier API, and sync lag under an open-loop amendment load. Writes bench/results/sync-<timestamp>.json.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite", help="database [sqlite]")
    parser.add_argument("--orders", type=_bounded(int, 1, 2000), default=200, help="orders shipped per round [200]")
    parser.add_argument("--ship-concurrency", type=_bounded(int, 1, 64), default=8, help="ship requests in flight [8]")
    parser.add_argument(
        "--raw-concurrency", type=_int_list(1, 64), default=[1, 8], help="comma list for the raw baseline [1,8]"
    )
    parser.add_argument(
        "--raw-creates", type=_bounded(int, 1, 20_000), default=None, help="creates per raw mode [--orders]"
    )
    parser.add_argument("--amend-rate", type=_bounded(float, 0.1, 500), default=20.0, help="amendments/s [20]")
    parser.add_argument(
        "--amend-seconds", type=_bounded(float, 0.5, 300), default=20.0, help="seconds of amendments per load [20]"
    )
    parser.add_argument(
        "--bursts",
        type=_int_list(1, 50),
        default=[1, 5],
        help="comma list; one amendment load each: B back-to-back edits of one order per event [1,5]",
    )
    parser.add_argument(
        "--delay-ms",
        type=_int_list(0, 5000),
        default=[0],
        help="comma list of courier delays (sandbox /_faults); one round each, e.g. 0,100 [0]",
    )
    parser.add_argument(
        "--delay-jitter-ms",
        type=_bounded(int, 0, 5000),
        default=0,
        help="± around each nonzero delay, re-drawn every 100 ms (the sandbox has one delay for all calls) [0]",
    )
    parser.add_argument(
        "--poll-ms", type=_bounded(int, 10, 5000), default=100, help="how often the lag watcher reads the courier [100]"
    )
    parser.add_argument(
        "--watch-rate",
        type=_bounded(float, 1, 1000),
        default=40.0,
        help="at most this many courier reads per second by the lag watcher [40]",
    )
    parser.add_argument(
        "--drain-timeout",
        type=_bounded(float, 1, 600),
        default=60.0,
        help="seconds after a load to wait for the courier to catch up [60]",
    )
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument(
        "--server-env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server, e.g. ORDERS_SQLITE_SYNCHRONOUS=NORMAL (repeatable)",
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args(argv)
    args.server_env = dict(args.server_env)
    if args.raw_creates is None:
        args.raw_creates = args.orders
    if args.pg_url and args.db != "postgres":
        parser.error("--pg-url goes with --db postgres")
    nonzero = [d for d in args.delay_ms if d]
    if args.delay_jitter_ms and not nonzero:
        parser.error("--delay-jitter-ms needs a nonzero --delay-ms")
    if args.delay_jitter_ms and args.delay_jitter_ms > min(nonzero):
        parser.error(f"--delay-jitter-ms ({args.delay_jitter_ms}) must not exceed the smallest delay ({min(nonzero)})")
    for burst in args.bursts:
        if args.amend_rate * args.amend_seconds < burst:
            parser.error(f"--amend-rate x --amend-seconds must allow at least one burst of {burst}")
    args.delay_ms_now = 0
    return args


async def run_cancellable(args: argparse.Namespace) -> int:
    """run(), cancelled on SIGTERM as on Ctrl-C, so that the server is stopped and the database dropped."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run(args)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run_cancellable(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the server was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
