"""A campaign to a big segment: how long POST /api/campaigns takes, and how long an amendment made meanwhile waits.

For each size N in ``--sizes`` and each database, one run starts ``orders-service serve`` (a subprocess, the
embedded relay on, marketing allowed all day so that the gate's quiet hours do not change the work) on a fresh
SQLite file or PostgreSQL database, bulk-inserts N customers born this month (segment ``birthday_this_month``)
with one phone each, a ``--consent`` share of them with marketing consent on SMS (SQLAlchemy Core: setup, not
measured), and creates one order through HTTP. It then:

1. amends that order one request at a time for ``--idle-amendments`` requests: the idle amendment latency;
2. times a dry run of the campaign (``dry_run: true``), ``--dry-runs`` times;
3. sends the campaign for real while a second client keeps amending the order one request at a time. It notes when
   every member was handled: when the POST returns if it answers 200 (the campaign ran inside the request), or,
   if it answers 202, when ``GET`` on its ``Location`` says ``done`` or ``failed``; then when every message
   that may go now was sent by the relay (the log provider), and stops amending;
4. checks that every member got exactly one message row under the campaign's key, and reads from the outbox how
   long each amendment's own message (the courier sync) waited for the relay meanwhile.

It prints, per run, the request time, the times until every member was handled and until every message went,
the amendments' latency meanwhile (p50/p99/max) and their failures (a 503 is the writer queue giving up after
30 s), how long their courier-sync messages waited, and writes bench/results/campaign-<ts>.json.

    .venv/bin/python bench/campaign_bench.py [--sizes 1000,10000,50000] [--db sqlite,postgres] [--consent 0.5]
        [--server-env ORDERS_CAMPAIGN_BATCH=200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

try:
    import httpx
    from benchlib.postgres import database_url, fresh_database, shown_url
    from benchlib.results import distribution, machine, versions, write_report
    from benchlib.servers import BENCH_DIR, REPO, cli_path, create_key, free_port, running, server_env, wait_ready
    from sqlalchemy import func, insert, select
    from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

    from orders_service.db.models import Customer, CustomerPhone, OutboxMessage
    from orders_service.messaging.models import Notification, NotificationConsent
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("CAMPAIGN_BENCH_REEXEC"):
        os.environ["CAMPAIGN_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

REEXEC = "CAMPAIGN_BENCH_REEXEC"
BATCH = 5_000
SEGMENT = "birthday_this_month"
# Marketing may go at any hour (the last minute of the day aside): the gate sends rather than defers.
SERVER_ENV = {"ORDERS_QUIET_HOURS": "00:00-23:59", "ORDERS_SHOP_NAME": "Bench"}
ORDER = {
    "channel": "website",
    "customer": {"full_name": "Khách đặt hàng", "phones": ["0981234567"]},
    "recipient": {
        "name": "Khách đặt hàng",
        "phones": ["0981234567"],
        "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
    },
    "lines": [{"sku": "DRESS-01", "name": "Đầm", "size": "M", "color": "red", "unit_price": 450_000, "quantity": 1}],
    "shipping": {"fee": 30_000, "payer": "customer"},
}
REQUEST_TIMEOUT_S = 1_800.0  # the old synchronous campaign can take minutes: measure it, do not cut it off
SENT_LIMIT_S = 1_800.0


async def populate(engine: AsyncEngine, customers: int, consent: float, seed: int = 11) -> int:
    """`customers` profiles born this month, one phone each; a `consent` share with SMS marketing consent."""
    rng, now = random.Random(seed), datetime.datetime.now(datetime.UTC)
    month = (now + datetime.timedelta(hours=7)).month  # the shop's month (Asia/Ho_Chi_Minh)
    consented = 0
    for first in range(0, customers, BATCH):
        people, phones, consents = [], [], []
        for n in range(first, min(customers, first + BATCH)):
            cid = uuid.uuid4()
            people.append(
                {
                    "id": cid,
                    "full_name": f"Khách {n}",
                    "search_name": f"khach {n}",
                    "birthday": datetime.date(rng.randint(1965, 2006), month, rng.randint(1, 28)),
                    "tags": [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
            phones.append({"id": uuid.uuid4(), "customer_id": cid, "e164": f"+8490{n:07d}", "position": 0})
            if rng.random() < consent:
                consented += 1
                consents.append(
                    {"id": uuid.uuid4(), "customer_id": cid, "channel": "sms", "purpose": "marketing"}
                    | {"state": "granted", "source": "pos", "updated_at": now}
                )
        async with engine.begin() as conn:
            await conn.execute(insert(Customer), people)
            await conn.execute(insert(CustomerPhone), phones)
            if consents:
                await conn.execute(insert(NotificationConsent), consents)
    return consented


class Amender:
    """Amends one order one request at a time (set_quantity 1 <-> 2), recording each request's latency."""

    def __init__(self, client: httpx.AsyncClient, order: dict[str, Any]) -> None:
        self.client, self.path = client, f"/api/orders/{order['id']}"
        self.version, self.line = order["version"], order["lines"][0]["id"]
        self.quantity = 1
        self.times: list[float] = []
        self.errors: dict[str, int] = {}

    async def once(self) -> None:
        self.quantity = 3 - self.quantity
        body = {"operations": [{"op": "set_quantity", "line_id": self.line, "quantity": self.quantity}]}
        began = time.perf_counter()
        try:
            response = await self.client.post(
                f"{self.path}/amendments", json=body, headers={"If-Match": f'"{self.version}"'}
            )
        except httpx.TransportError as error:
            self._error(type(error).__name__)
            return
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code == 200:
            self.times.append(elapsed)
            self.version = response.json()["version"]
            return
        self._error(f"HTTP {response.status_code}")
        current = await self.client.get(self.path)
        if current.status_code == 200:
            self.version = current.json()["version"]

    def _error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.once()
            await asyncio.sleep(0.01)  # a member of staff clicking, not a load generator


async def wait_done(client: httpx.AsyncClient, location: str) -> dict[str, Any]:
    while True:
        response = await client.get(location)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body["state"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.1)


async def all_sent(engine: AsyncEngine, key: str, limit_s: float) -> bool:
    """Wait until none of the campaign's messages is still to be sent now (deferred ones wait for 07:00)."""
    waiting = select(func.count()).where(
        Notification.campaign == key, Notification.status == "queued", Notification.deferred_until.is_(None)
    )
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            if not await conn.scalar(waiting):
                return True
        await asyncio.sleep(0.5)
    return False


async def order_sync_lag(engine: AsyncEngine, since: datetime.datetime) -> dict[str, Any]:
    """How long each amendment's outbox message (the courier sync) waited for the relay, from its commit."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(OutboxMessage.created_at, OutboxMessage.processed_at).where(
                OutboxMessage.topic.like("order.%"), OutboxMessage.created_at >= since
            )
        )
        pairs = rows.tuples().all()
    lags = [(done - made).total_seconds() * 1000 for made, done in pairs if done is not None]
    return {"ms": distribution(lags), "not_handled": sum(done is None for _, done in pairs)}


async def send(client: httpx.AsyncClient, engine: AsyncEngine, amender: Amender, key: str) -> dict[str, Any]:
    """The real send with the amender running meanwhile, until every message is sent; the request's time, the
    time until every member was handled, and until every message went."""
    stop = asyncio.Event()
    amending = asyncio.create_task(amender.until(stop))
    await asyncio.sleep(0.2)  # the amender is going before the campaign starts
    since = datetime.datetime.now(datetime.UTC)
    began = time.perf_counter()
    body = {"segment": SEGMENT, "template": "promotion", "message": "Giảm 20% cuối tuần.", "key": key}
    try:
        response = await client.post("/api/campaigns", json=body, timeout=REQUEST_TIMEOUT_S)
        request_s = time.perf_counter() - began
        answer: dict[str, Any] = {"status": response.status_code, "request_s": round(request_s, 3)}
        if response.status_code == 202:
            final = await wait_done(client, response.headers["Location"])
            answer["campaign"] = final
        elif response.status_code == 200:
            answer["campaign"] = response.json()
        else:
            answer["error"] = response.text[:500]
        answer["done_s"] = round(time.perf_counter() - began, 3)
        answer["all_sent"] = await all_sent(engine, key, SENT_LIMIT_S)
        answer["sent_s"] = round(time.perf_counter() - began, 3)
    finally:
        stop.set()
        await amending
    answer["order_sync_lag"] = await order_sync_lag(engine, since)
    return answer


async def dry_runs(client: httpx.AsyncClient, count: int) -> dict[str, Any]:
    times, status, last = [], None, None
    for _ in range(count):
        began = time.perf_counter()
        response = await client.post(
            "/api/campaigns",
            json={"segment": SEGMENT, "template": "promotion", "message": "Thử.", "dry_run": True},
            timeout=REQUEST_TIMEOUT_S,
        )
        times.append((time.perf_counter() - began) * 1000)
        status = response.status_code
        if status != 200:
            return {"status": status, "error": response.text[:500], "ms": distribution(times)}
        last = response.json()
    assert last is not None
    listed = last.get("suppressed", [])
    return {
        "status": status,
        "ms": distribution(times),
        "response_bytes": len(response.content),
        "suppressed_listed": len(listed),
        "would_send": last.get("would_send"),
    }


async def messages_per_member(engine: AsyncEngine, key: str) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Notification.customer_id, func.count())
            .where(Notification.campaign == key)
            .group_by(Notification.customer_id)
        )
        counts = [n for _, n in rows.tuples()]
    return {"members_reached": len(counts), "most_to_one_member": max(counts, default=0)}


async def run_one(db: str, size: int, args: argparse.Namespace, pg_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="campaign-bench-") as tmp:
        data_dir = Path(tmp)
        name = f"campaign_bench_{uuid.uuid4().hex[:8]}"
        url = f"sqlite+aiosqlite:///{data_dir / 'orders.db'}" if db == "sqlite" else database_url(str(pg_url), name)
        pg_database = fresh_database(str(pg_url), name) if db == "postgres" else contextlib.nullcontext("-")
        async with pg_database as server_version:
            extra = SERVER_ENV | dict(pair.split("=", 1) for pair in args.server_env)
            env = server_env(data_dir, url if db == "postgres" else None, extra, REEXEC)
            port, log = free_port(), data_dir / "server.log"
            argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            async with (
                running(argv, env, log, REPO) as proc,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as staff,
            ):
                await wait_ready(proc, log, lambda: client.get("/health"))
                key = await create_key(env, REPO)
                client.headers["Authorization"] = staff.headers["Authorization"] = f"Bearer {key}"
                engine = create_async_engine(url)
                try:
                    began = time.perf_counter()
                    consented = await populate(engine, size, args.consent)
                    setup_s = round(time.perf_counter() - began, 1)
                    created = await staff.post("/api/orders", json=ORDER)
                    created.raise_for_status()
                    amender = Amender(staff, created.json())
                    for _ in range(args.idle_amendments):
                        await amender.once()
                    idle = distribution(amender.times)
                    amender.times, amender.errors = [], {}
                    dry = await dry_runs(client, args.dry_runs)
                    campaign_key = f"bench-{size}"
                    sent = await send(client, engine, amender, campaign_key)
                    reached = await messages_per_member(engine, campaign_key)
                finally:
                    await engine.dispose()
                server_errors = sum("Traceback" in line for line in log.read_text(errors="replace").splitlines())
    return {
        "database": shown_url(str(pg_url), name) if db == "postgres" else "sqlite",
        "server_version": server_version,
        "customers": size,
        "consented": consented,
        "setup_s": setup_s,
        "idle_amend_ms": idle,
        "dry_run": dry,
        "send": sent,
        "amend_during_ms": distribution(amender.times),
        "amend_errors": amender.errors,
        "messages": reached,
        "server_tracebacks": server_errors,
    }


def show(db: str, r: dict[str, Any]) -> None:
    send, during = r["send"], r["amend_during_ms"]
    print(f"{db} {r['customers']:>6} customers ({r['consented']} with consent; setup {r['setup_s']} s)")
    dry = r["dry_run"]
    print(f"  dry run: HTTP {dry['status']}  p50 {dry['ms']['p50']:.0f} ms  ({dry.get('response_bytes', 0)} bytes)")
    print(
        f"  send: HTTP {send['status']}  request {send['request_s']:.2f} s  all members handled {send['done_s']:.2f} s"
        f"  all sent {send['sent_s']:.2f} s"
    )
    lag = send["order_sync_lag"]
    waited = {k: lag["ms"][k] or 0 for k in ("p50", "p99", "max")}
    print(
        f"  amendments' courier-sync messages waited: p50 {waited['p50']:.0f} ms  p99 {waited['p99']:.0f} ms"
        f"  max {waited['max']:.0f} ms  ({lag['ms']['count']} handled, {lag['not_handled']} not yet)"
    )
    ms = {k: during[k] or 0 for k in ("p50", "p99", "max")}
    print(
        f"  amendments meanwhile: {during['count']} ok, p50 {ms['p50']:.0f} ms  p99 {ms['p99']:.0f} ms"
        f"  max {ms['max']:.0f} ms  errors {r['amend_errors'] or 0}  (idle p50 {r['idle_amend_ms']['p50']:.0f} ms)"
    )
    print(f"  messages: {r['messages']}  server tracebacks: {r['server_tracebacks']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma list of segment sizes [1000,10000,50000]")
    parser.add_argument("--db", default="sqlite", help="comma list of sqlite,postgres [sqlite]")
    parser.add_argument("--consent", type=float, default=0.5, help="share of customers with consent [0.5]")
    parser.add_argument("--idle-amendments", type=int, default=30, help="amendments timed before the campaign [30]")
    parser.add_argument("--dry-runs", type=int, default=3, help="dry runs timed [3]")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE", help="repeatable")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.UTC)
    databases = [d.strip() for d in args.db.split(",") if d.strip()]
    pg_url = None
    if "postgres" in databases:
        pg_url = (
            args.pg_url
            or os.environ.get("PG")
            or subprocess.run(
                [str(REPO / "deploy" / "postgres.sh"), "start"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    report: dict[str, Any] = {
        "started": started.isoformat(),
        "command": " ".join(sys.argv),
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(),
        "versions": versions(["litestar", "sqlalchemy", "asyncpg", "aiosqlite"]),
        "runs": [],
    }
    for db in databases:
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            result = asyncio.run(run_one(db, size, args, pg_url))
            report["runs"].append({"db": db, **result})
            show(db, result)
    print(f"wrote {write_report(args.results_dir, 'campaign', started, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
