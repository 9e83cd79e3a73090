"""Segment query over many customers on PostgreSQL: GET /api/segments and one segment's first page.

Starts ``orders-service serve`` (a subprocess, relay off) on a fresh PostgreSQL database, creates one order
through HTTP, then bulk-inserts ``--customers`` profiles (a birthday for half of them) with 0 to 6 completed
orders each, their earn entries and an occasional return (SQLAlchemy Core), and fills customer_stats from them
(``loyalty.stats.rebuild``: the rows were written around the app). It then times, one request at a time,
``GET /api/segments`` (every segment's count) and ``GET /api/segments/vip/customers?limit=50``, and beside them,
raw over asyncpg on the same database, the baselines: the page's own SQL (count, 50 ids, their customers), the
counts' SQL, and the grouped statistics statement the service ran per request before customer_stats (fetching
every row). It prints p50/p99, the ratios endpoint/raw SQL, and writes bench/results/segments-<ts>.json.

    .venv/bin/python bench/segment_bench.py [--customers 100000] [--requests 10] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
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
    import asyncpg
    import httpx
    from benchlib.postgres import asyncpg_dsn, database_url, fresh_database, shown_url
    from benchlib.results import distribution, machine, versions, write_report
    from benchlib.servers import BENCH_DIR, REPO, cli_path, create_key, free_port, running, server_env, wait_ready
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

    from orders_service.db.models import Customer, Order, PointsEntry
    from orders_service.loyalty import stats
    from orders_service.loyalty.program import Program
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("SEGMENT_BENCH_REEXEC"):
        os.environ["SEGMENT_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

REEXEC = "SEGMENT_BENCH_REEXEC"
BATCH = 5_000
ORDER = {
    "channel": "website",
    "customer": {"full_name": "Mẫu", "phones": ["0901999999"]},
    "recipient": {
        "name": "Mẫu",
        "phones": ["0901999999"],
        "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
    },
    "lines": [{"sku": "DRESS-01", "name": "Đầm", "size": "M", "color": "red", "unit_price": 450_000, "quantity": 1}],
    "shipping": {"fee": 30_000, "payer": "customer"},
}
# The grouped statistics the segment rules read, as the service asked for them on every request before
# customer_stats: the old figure, measured in the same run.
RAW_STATS = """
SELECT c.id, c.birthday, coalesce(l.spend, 0), coalesce(l.orders, 0), o.last_order_at
FROM customers c
LEFT JOIN (SELECT customer_id, sum(spend) AS spend, sum(orders_delta) AS orders
           FROM points_ledger GROUP BY customer_id) l ON l.customer_id = c.id
LEFT JOIN (SELECT customer_id, max(created_at) AS last_order_at FROM orders
           WHERE status IN ('delivered', 'partially_delivered') GROUP BY customer_id) o ON o.customer_id = c.id
WHERE c.merged_into_id IS NULL ORDER BY c.id
"""
# What GET /api/segments/vip/customers?limit=50 asks the database (loyalty/segment_services.py), by hand.
RAW_PAGE_COUNT = "SELECT count(customer_id) FROM customer_stats WHERE orders > 0 AND spend >= $1"
RAW_PAGE_IDS = "SELECT customer_id FROM customer_stats WHERE orders > 0 AND spend >= $1 ORDER BY customer_id LIMIT 50"
RAW_PAGE_ROWS = "SELECT * FROM customers WHERE id = ANY($1::uuid[])"
# What GET /api/segments asks: the stats rules' counts in one pass, the birthday month on customers.
RAW_COUNTS = """
SELECT count(*) FILTER (WHERE orders = 1), count(*) FILTER (WHERE orders >= 2),
       count(*) FILTER (WHERE orders > 0 AND spend >= $1),
       count(*) FILTER (WHERE orders > 0 AND last_order_at <= $2),
       count(*) FILTER (WHERE orders > 0 AND last_order_at > $3 AND orders >= 5 AND spend >= $1),
       count(*) FILTER (WHERE orders >= 2 AND last_order_at > $2
                        AND NOT (last_order_at > $3 AND orders >= 5 AND spend >= $1)),
       count(*) FILTER (WHERE orders = 1 AND last_order_at > $3),
       count(*) FILTER (WHERE orders > 0 AND last_order_at <= $2 AND (orders >= 2 OR spend >= $4)),
       count(*) FILTER (WHERE last_order_at <= $2 AND orders = 1 AND spend < $4)
FROM customer_stats
"""
RAW_BIRTHDAYS = "SELECT count(*) FROM customers WHERE merged_into_id IS NULL AND extract(month FROM birthday) = $1"


def _customer_rows(first: int, count: int, rng: random.Random, now: datetime.datetime) -> list[dict[str, Any]]:
    rows = []
    for n in range(first, first + count):
        birthday = datetime.date(rng.randint(1965, 2006), rng.randint(1, 12), rng.randint(1, 28))
        rows.append(
            {
                "id": uuid.uuid4(),
                "full_name": f"Khách {n}",
                "search_name": f"khach {n}",
                "birthday": birthday if n % 2 else None,
                "tags": [],
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


async def populate(engine: AsyncEngine, template_id: uuid.UUID, customers: int, seed: int = 7) -> dict[str, int]:
    """`customers` profiles with 0-6 delivered orders each (clones of the template order) and their ledger."""
    rng, now = random.Random(seed), datetime.datetime.now(datetime.UTC)
    counts = {"customers": 0, "orders": 0, "ledger_entries": 0}
    async with engine.begin() as conn:
        order = dict((await conn.execute(select(Order.__table__).where(Order.id == template_id))).mappings().one())
    for first in range(0, customers, BATCH):
        people = _customer_rows(first, min(BATCH, customers - first), rng, now)
        orders, entries = [], []
        for person in people:
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 6))):
                at = now - datetime.timedelta(days=rng.randint(0, 400))
                oid, spend = uuid.uuid4(), rng.choice((150_000, 450_000, 1_200_000, 2_500_000))
                orders.append(
                    {
                        **order,
                        "id": oid,
                        "customer_id": person["id"],
                        "code": f"S{oid.hex[:12].upper()}",
                        "status": "delivered",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                entry = {"customer_id": person["id"], "order_id": oid, "created_at": at, "expires_at": None}
                entries.append(
                    {**entry, "id": uuid.uuid4(), "kind": "earn", "ref": "", "points": spend // 10_000}
                    | {"spend": spend, "orders_delta": 1, "note": None}
                )
                if rng.random() < 0.05:  # a full return: spend, points and the order count come back
                    entries.append(
                        {**entry, "id": uuid.uuid4(), "kind": "reverse", "ref": "all", "points": -(spend // 10_000)}
                        | {"spend": -spend, "orders_delta": -1, "note": None}
                    )
        async with engine.begin() as conn:
            await conn.execute(insert(Customer), people)
            if orders:
                await conn.execute(insert(Order), orders)
                await conn.execute(insert(PointsEntry), entries)
        counts["customers"] += len(people)
        counts["orders"] += len(orders)
        counts["ledger_entries"] += len(entries)
    async with AsyncSession(engine) as session, session.begin():
        await stats.rebuild(session)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    return counts


async def timed(call: Any, requests: int) -> list[float]:
    for _ in range(2):  # warm-up, not counted
        await call()
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return times


async def run(args: argparse.Namespace, pg_url: str) -> dict[str, Any]:
    name = f"segment_bench_{uuid.uuid4().hex[:8]}"
    url = database_url(pg_url, name)
    async with fresh_database(pg_url, name) as server_version:
        with tempfile.TemporaryDirectory(prefix="segment-bench-") as tmp:
            data_dir = Path(tmp)
            env = server_env(data_dir, url, {"ORDERS_RELAY": "off"}, REEXEC)
            port, log = free_port(), data_dir / "server.log"
            argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            async with (
                running(argv, env, log, REPO) as proc,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as client,
            ):
                await wait_ready(proc, log, lambda: client.get("/health"))
                client.headers["Authorization"] = f"Bearer {await create_key(env, REPO)}"
                created = await client.post("/api/orders", json=ORDER)
                created.raise_for_status()
                engine = create_async_engine(url)
                began = time.perf_counter()
                try:
                    counts = await populate(engine, uuid.UUID(created.json()["id"]), args.customers)
                finally:
                    await engine.dispose()
                setup_s = round(time.perf_counter() - began, 1)

                async def segments() -> None:
                    (await client.get("/api/segments")).raise_for_status()

                async def vip_page() -> None:
                    (await client.get("/api/segments/vip/customers", params={"limit": 50})).raise_for_status()

                listed = (await client.get("/api/segments")).json()
                first_page = (await client.get("/api/segments/vip/customers", params={"limit": 50})).json()
                endpoint = await timed(segments, args.requests)
                page = await timed(vip_page, args.requests)
            raw_conn = await asyncpg.connect(asyncpg_dsn(pg_url, name))
            vip = Program().tiers[-1].min_spend
            now = datetime.datetime.now(datetime.UTC)
            lately, recent = now - datetime.timedelta(days=91), now - datetime.timedelta(days=31)
            try:

                async def raw_page() -> None:
                    await raw_conn.fetchval(RAW_PAGE_COUNT, vip)
                    ids = [r[0] for r in await raw_conn.fetch(RAW_PAGE_IDS, vip)]
                    await raw_conn.fetch(RAW_PAGE_ROWS, ids)

                async def raw_counts() -> None:
                    await raw_conn.fetch(RAW_COUNTS, vip, lately, recent, vip // 5)
                    await raw_conn.fetchval(RAW_BIRTHDAYS, now.month)

                async def raw_old() -> None:
                    await raw_conn.fetch(RAW_STATS)

                # The baselines ask what the endpoints ask: the same counts, the same page.
                row = await raw_conn.fetchrow(RAW_COUNTS, vip, lately, recent, vip // 5)
                stats_rules = [n for n in (s["name"] for s in listed) if n != "birthday_this_month"]
                counted = dict(zip(stats_rules, row, strict=True))
                counted["birthday_this_month"] = await raw_conn.fetchval(RAW_BIRTHDAYS, now.month)
                raw_ids = [str(r[0]) for r in await raw_conn.fetch(RAW_PAGE_IDS, vip)]
                page_sql = await timed(raw_page, args.requests)
                counts_sql = await timed(raw_counts, args.requests)
                old_sql = await timed(raw_old, max(1, args.requests // 3))
            finally:
                await raw_conn.close()
    result: dict[str, Any] = {
        "database": shown_url(pg_url, name),
        "server_version": server_version,
        "setup_s": setup_s,
        **counts,
        "segments": {s["name"]: s["count"] for s in listed},
        "raw_counts": {s["name"]: counted[s["name"]] for s in listed},
        "page_ids": [c["id"] for c in first_page["items"]],
        "raw_page_ids": raw_ids,
        "list_segments_ms": distribution(endpoint),
        "segment_page_ms": distribution(page),
        "raw_counts_ms": distribution(counts_sql),
        "raw_page_ms": distribution(page_sql),
        "raw_old_stats_ms": distribution(old_sql),
    }
    result["ratio_list_vs_raw_p50"] = round(result["list_segments_ms"]["p50"] / result["raw_counts_ms"]["p50"], 2)
    result["ratio_page_vs_raw_p50"] = round(result["segment_page_ms"]["p50"] / result["raw_page_ms"]["p50"], 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="profiles to create [100000]")
    parser.add_argument("--requests", type=int, default=10, help="measured requests per operation [10]")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL SQLAlchemy URL [$PG, else deploy/postgres.sh start]")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results", help="where the JSON goes")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.UTC)
    pg_url = (
        args.pg_url
        or os.environ.get("PG")
        or subprocess.run(
            [str(REPO / "deploy" / "postgres.sh"), "start"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    result = asyncio.run(run(args, pg_url))
    report = {
        "started": started.isoformat(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(),
        "versions": versions(["litestar", "sqlalchemy", "asyncpg"]),
        "result": result,
    }
    print(
        f"postgres: {result['customers']} customers, {result['orders']} completed orders,"
        f" {result['ledger_entries']} ledger entries (setup {result['setup_s']} s)"
    )
    print(f"  segments: {result['segments']}")
    for label, key in (
        ("GET /api/segments", "list_segments_ms"),
        ("  raw SQL of the counts (baseline)", "raw_counts_ms"),
        ("GET /api/segments/vip/customers", "segment_page_ms"),
        ("  raw SQL of the page (baseline)", "raw_page_ms"),
        ("old per-request statistics SQL", "raw_old_stats_ms"),
    ):
        print(f"  {label:34} p50 {result[key]['p50']:8.1f} ms  p99 {result[key]['p99']:8.1f} ms")
    print(f"  ratio endpoint/raw SQL  list {result['ratio_list_vs_raw_p50']}x  page {result['ratio_page_vs_raw_p50']}x")
    print(f"wrote {write_report(args.results_dir, 'segments', started, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
