"""Profile read time: GET /api/customers/{id}/profile for a customer with 10 completed orders vs one with 10,000.

One run per database starts ``orders-service serve`` (a subprocess, relay off) on a fresh SQLite file, or a
fresh PostgreSQL database with ``--db postgres``; creates one order per customer through HTTP, clones it into
``--small`` and ``--large`` delivered orders with their lines and earn entries (bulk inserts through SQLAlchemy
Core), then reads each profile ``--requests`` times, one request at a time. It prints p50/p99 and the
large/small ratio, times the profile's heavy statements alone, and writes bench/results/profile-<ts>.json.

    .venv/bin/python bench/profile_bench.py [--small 10] [--large 10000] [--requests 50] [--db sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
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
    from sqlalchemy import func, insert, select, update
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

    from orders_service.db.models import CustomerFavorite, CustomerStats, Order, OrderLine, PointsEntry
    from orders_service.loyalty import favorites, stats
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("PROFILE_BENCH_REEXEC"):
        os.environ["PROFILE_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

REEXEC = "PROFILE_BENCH_REEXEC"
BATCH = 1_000
ORDER = {
    "channel": "website",
    "recipient": {
        "name": "Bench",
        "phones": ["0901234567"],
        "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
    },
    "lines": [{"sku": "DRESS-01", "name": "Đầm", "size": "M", "color": "red", "unit_price": 450_000, "quantity": 1}],
    "shipping": {"fee": 30_000, "payer": "customer"},
}


async def make_customer(client: httpx.AsyncClient, engine: AsyncEngine, phone: str, orders: int) -> str:
    """One order through HTTP, then `orders` delivered copies of it with their lines and earn entries."""
    body = {**ORDER, "customer": {"full_name": f"Bench {orders}", "phones": [phone]}}
    response = await client.post("/api/orders", json=body)
    response.raise_for_status()
    template_id = uuid.UUID(response.json()["id"])
    async with engine.begin() as conn:
        order = dict((await conn.execute(select(Order.__table__).where(Order.id == template_id))).mappings().one())
        lines = [
            dict(r)
            for r in (
                await conn.execute(select(OrderLine.__table__).where(OrderLine.order_id == template_id))
            ).mappings()
        ]
        await conn.execute(update(Order.__table__).where(Order.id == template_id).values(status="cancelled"))
        start = order["created_at"] - datetime.timedelta(days=orders)
        for first in range(0, orders, BATCH):
            rows, line_rows, entries = [], [], []
            for n in range(first, min(orders, first + BATCH)):
                at = start + datetime.timedelta(days=n)
                oid = uuid.uuid4()
                rows.append(
                    {
                        **order,
                        "id": oid,
                        "code": f"B{oid.hex[:12].upper()}",
                        "status": "delivered",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                line_rows += [{**line, "id": uuid.uuid4(), "order_id": oid} for line in lines]
                entries.append(
                    {
                        "id": uuid.uuid4(),
                        "customer_id": order["customer_id"],
                        "order_id": oid,
                        "kind": "earn",
                        "ref": "",
                        "points": 45,
                        "spend": 450_000,
                        "orders_delta": 1,
                        "created_at": at,
                        "expires_at": None,
                        "note": None,
                    }
                )
            await conn.execute(insert(Order.__table__), rows)
            await conn.execute(insert(OrderLine.__table__), line_rows)
            await conn.execute(insert(PointsEntry.__table__), entries)
    async with AsyncSession(engine) as session, session.begin():  # the rows went around the app: count them
        await stats.rebuild(session)
        await favorites.recompute(session, None)
    return str(order["customer_id"])


async def read_times(client: httpx.AsyncClient, customer: str, requests: int, orders: int) -> list[float]:
    path = f"/api/customers/{customer}/profile"
    first = await client.get(path)
    first.raise_for_status()
    assert first.json()["stats"]["delivered_orders"] == orders, first.text
    for _ in range(min(10, requests)):  # warm-up, not counted
        await client.get(path)
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        (await client.get(path)).raise_for_status()
        times.append((time.perf_counter() - began) * 1000)
    return times


async def statement_times(engine: AsyncEngine, customer: str, reps: int = 10) -> dict[str, float]:
    """Where the time goes (ms, median, alone): the rows the profile reads now, and the statements it ran before
    customer_stats, which read more rows as her orders grow (all but the last 3 months' spend are gone)."""
    cid = uuid.UUID(customer)
    done = Order.status.in_(["delivered", "partially_delivered"])
    kinds = (OrderLine.sku, OrderLine.size, OrderLine.color, OrderLine.kept)
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90)
    statements = {
        "kept stats (read now)": select(CustomerStats).where(CustomerStats.customer_id == cid),
        "kept favourites (read now)": select(CustomerFavorite).where(CustomerFavorite.customer_id == cid),
        "ledger sums": select(func.sum(PointsEntry.points), func.sum(PointsEntry.spend)).where(
            PointsEntry.customer_id == cid
        ),
        "spend last 3 months": select(func.sum(PointsEntry.spend)).where(
            PointsEntry.customer_id == cid, PointsEntry.created_at >= since
        ),
        "kept lines grouped": select(*kinds, func.sum(OrderLine.quantity), func.count())
        .join(Order, OrderLine.order_id == Order.id)
        .where(Order.customer_id == cid, done)
        .group_by(*kinds),
        "first/last order": select(func.min(Order.created_at), func.max(Order.created_at)).where(
            Order.customer_id == cid, done
        ),
    }
    medians: dict[str, float] = {}
    async with engine.connect() as conn:
        for name, statement in statements.items():
            samples = []
            for _ in range(reps):
                began = time.perf_counter()
                (await conn.execute(statement)).all()
                samples.append((time.perf_counter() - began) * 1000)
            medians[name] = round(sorted(samples)[len(samples) // 2], 2)
    return medians


async def run_db(db: str, args: argparse.Namespace, pg_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="profile-bench-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite+aiosqlite:///{data_dir / 'orders.db'}" if db == "sqlite" else None
        name = f"profile_bench_{uuid.uuid4().hex[:8]}"
        if db == "postgres":
            assert pg_url is not None
            url = database_url(pg_url, name)
        pg_database = fresh_database(pg_url, name) if db == "postgres" and pg_url else contextlib.nullcontext()
        async with pg_database as server_version:
            env = server_env(data_dir, url if db == "postgres" else None, {"ORDERS_RELAY": "off"}, REEXEC)
            port, log = free_port(), data_dir / "server.log"
            argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            async with running(argv, env, log, REPO) as proc:
                base = f"http://127.0.0.1:{port}"
                async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                    await wait_ready(proc, log, lambda: client.get("/health"))
                    client.headers["Authorization"] = f"Bearer {await create_key(env, REPO)}"
                    engine = create_async_engine(str(url))
                    try:
                        result: dict[str, Any] = {
                            "database": shown_url(pg_url, name) if pg_url and db == "postgres" else "sqlite",
                            "server_version": server_version,
                        }
                        for label, orders, phone in (
                            ("small", args.small, "0901000001"),
                            ("large", args.large, "0901000002"),
                        ):
                            began = time.perf_counter()
                            customer = await make_customer(client, engine, phone, orders)
                            setup_s = round(time.perf_counter() - began, 1)
                            times = await read_times(client, customer, args.requests, orders)
                            result[label] = {
                                "orders": orders,
                                "setup_s": setup_s,
                                "read_ms": distribution(times),
                                "statements_ms": await statement_times(engine, customer),
                            }
                    finally:
                        await engine.dispose()
    small, large = result["small"]["read_ms"], result["large"]["read_ms"]
    result["ratio_p50"] = round(large["p50"] / small["p50"], 1)
    result["ratio_p99"] = round(large["p99"] / small["p99"], 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10, help="completed orders of the small customer [10]")
    parser.add_argument("--large", type=int, default=10_000, help="completed orders of the large customer [10000]")
    parser.add_argument("--requests", type=int, default=50, help="measured profile reads per customer [50]")
    parser.add_argument("--db", default="sqlite", help="comma list of sqlite,postgres [sqlite]")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.UTC)
    pg_url = None
    if "postgres" in args.db:
        pg_url = (
            args.pg_url
            or os.environ.get("PG")
            or subprocess.run(
                [str(REPO / "deploy" / "postgres.sh"), "start"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    report: dict[str, Any] = {
        "started": started.isoformat(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(),
        "versions": versions(["litestar", "sqlalchemy", "asyncpg", "aiosqlite"]),
        "runs": {},
    }
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        result = asyncio.run(run_db(db, args, pg_url))
        report["runs"][db] = result
        print(f"{db}: profile read, one request at a time ({args.requests} reads each)")
        for label in ("small", "large"):
            r = result[label]
            print(
                f"  {r['orders']:>6} orders  p50 {r['read_ms']['p50']:8.1f} ms  p99 {r['read_ms']['p99']:8.1f} ms"
                f"  (setup {r['setup_s']} s)  statements alone: {r['statements_ms']}"
            )
        print(f"  ratio large/small  p50 {result['ratio_p50']}x  p99 {result['ratio_p99']}x")
    print(f"wrote {write_report(args.results_dir, 'profile', started, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
