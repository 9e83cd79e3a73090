"""Timing of the paginated list endpoints on SQLite with a few thousand rows, in process (no server, no network).

Seeds one SQLite database (orders through the API, the rest as rows), keeps it in `--db-dir` so that two
versions of the code can be timed on the same data, then asks each list endpoint `--rounds` times and prints
the fastest, the median and the 90th percentile per endpoint (on a shared, busy machine the fastest is the
figure to compare: it is the least disturbed by other work). Compare two versions by running the script with
each one first on PYTHONPATH:

    PYTHONPATH=/tmp/old-checkout .venv/bin/python bench/list_bench.py --db-dir /tmp/listbench
    PYTHONPATH=$PWD .venv/bin/python bench/list_bench.py --db-dir /tmp/listbench
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import shutil
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool
from vietnam_provinces import Ward

from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.db.migrate import upgrade
from orders_service.db.models import CourierAddress, Customer, TierChange
from orders_service.infra.settings import Settings
from orders_service.messaging.models import Campaign, Notification

ENV = {"ORDERS_RELAY": "off"}


def _settings(folder: Path) -> Settings:
    return Settings.from_env({"ORDERS_DATA_DIR": str(folder), **ENV})


def _order(i: int) -> dict[str, Any]:
    phone = f"09{i:08d}"
    return {
        "customer": {"full_name": f"Nguyễn Thị Lan {i}", "phones": [phone]},
        "channel": "website" if i % 3 else "facebook",
        "recipient": {
            "name": "Nguyễn Thị Lan",
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
        },
        "lines": [
            {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
        ],
        "shipping": {"fee": 30000, "payer": "customer"},
    }


async def _seed(folder: Path, orders: int) -> None:
    settings = _settings(folder)
    engine = create_engine(settings, poolclass=NullPool)
    async with AsyncSession(engine) as session, session.begin():
        _, key = await create_key(session, "bench", Role.ADMIN)
    app = create_app(settings)
    async with AsyncTestClient(app=app, timeout=60) as client:
        headers = {"Authorization": f"Bearer {key}"}
        for i in range(orders):
            answer = await client.post("/api/orders", json=_order(i), headers=headers)
            assert answer.status_code == 201, answer.text
    async with AsyncSession(engine) as session, session.begin():
        customer = await session.scalar(select(Customer).order_by(Customer.created_at).limit(1))
        assert customer is not None
        customer_id = str(customer.id)
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        for i in range(orders):
            at = start + datetime.timedelta(minutes=i)
            session.add(TierChange(customer_id=customer.id, to_tier="silver", reason="bench", at=at))
            session.add(Campaign(key=f"b{i}", segment="all", template="promotion", created_by="bench", created_at=at))
            session.add(
                Notification(
                    customer_id=customer.id,
                    channel="sms",
                    to="+84900000000",
                    purpose="transactional",
                    template="order_confirmed",
                    locale="vi",
                    body="bench",
                    status="sent" if i % 2 else "queued",
                    dedupe_key=f"bench-{i}",
                    created_at=at,
                )
            )
        for ward in list(Ward.iter_all())[:orders]:
            session.add(CourierAddress(courier="ghtk", ward_code=int(ward.code), ids={"district_name": "Quận 1"}))
    await engine.dispose()
    (folder / "bench.json").write_text(json.dumps({"key": key, "customer": customer_id}))


async def _time(folder: Path, rounds: int) -> dict[str, dict[str, float]]:
    facts = json.loads((folder / "bench.json").read_text())
    headers = {"Authorization": f"Bearer {facts['key']}"}
    customer = facts["customer"]
    paths = {
        "orders": "/api/orders?limit=50",
        "orders deep page": "/api/orders?limit=50&offset=1500",
        "orders by status+channel": "/api/orders?status=pending&channel=facebook",
        "orders by phone": "/api/orders?phone=0900000042",
        "customer's orders": f"/api/customers/{customer}/orders",
        "customers by name": "/api/customers?q=lan%201",
        "tier history": f"/api/customers/{customer}/tier-history?limit=50&offset=100",
        "notifications": "/api/notifications?limit=50&offset=100",
        "notifications by status": f"/api/notifications?status=sent&customer_id={customer}",
        "campaigns": "/api/campaigns?limit=50&offset=100",
        "courier addresses": "/api/couriers/ghtk/addresses?limit=50&offset=100",
    }
    found: dict[str, dict[str, float]] = {}
    app = create_app(_settings(folder))
    async with AsyncTestClient(app=app, timeout=60) as client:
        for name, path in paths.items():
            times = []
            for i in range(rounds + 3):
                began = time.perf_counter()
                answer = await client.get(path, headers=headers)
                spent = time.perf_counter() - began
                assert answer.status_code == 200, (path, answer.text)
                if i >= 3:  # the first few warm caches and compile statements
                    times.append(spent * 1000)
            total = answer.json()["total"]
            times.sort()
            found[name] = {
                "min_ms": round(times[0], 2),
                "median_ms": round(statistics.median(times), 2),
                "p90_ms": round(times[int(len(times) * 0.9)], 2),
                "total": total,
            }
    return found


async def _time_service(folder: Path, rounds: int) -> dict[str, float]:
    """The order list's service alone (no HTTP, no rendering): the fastest of `rounds` calls per filter, in ms."""
    try:
        from orders_service.orders.listing import OrderFilters, list_orders
    except ImportError:  # the code before the list moved out of orders/services.py
        from orders_service.orders.services import OrderFilters, list_orders  # type: ignore[attr-defined,no-redef]
    customer = uuid.UUID(json.loads((folder / "bench.json").read_text())["customer"])
    cases = {
        "all": OrderFilters(),
        "by channel": OrderFilters(channel="facebook"),
        "by phone": OrderFilters(phone="0900000042"),
        "by customer": OrderFilters(customer_id=customer),
    }
    engine = create_engine(_settings(folder))
    found = {}
    try:
        for name, filters in cases.items():
            times = []
            for _ in range(rounds + 3):
                async with AsyncSession(engine) as session:
                    began = time.perf_counter()
                    await list_orders(session, filters, 50, 0)
                    times.append((time.perf_counter() - began) * 1000)
            found[name] = round(min(times[3:]), 2)
    finally:
        await engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", type=Path, required=True, help="where the seeded database is kept")
    parser.add_argument("--orders", type=int, default=3000, help="orders (and tier moves, campaigns, addresses)")
    parser.add_argument("--rounds", type=int, default=40, help="requests timed per endpoint")
    args = parser.parse_args()
    if not (args.db_dir / "bench.json").exists():
        shutil.rmtree(args.db_dir, ignore_errors=True)
        args.db_dir.mkdir(parents=True)
        began = time.perf_counter()
        upgrade(_settings(args.db_dir))  # runs its own event loop
        asyncio.run(_seed(args.db_dir, args.orders))
        print(f"seeded {args.orders} orders in {time.perf_counter() - began:.0f} s")
    for name, figures in asyncio.run(_time(args.db_dir, args.rounds)).items():
        best, median, p90 = figures["min_ms"], figures["median_ms"], figures["p90_ms"]
        print(f"{name:26} min {best:6.2f} ms  median {median:6.2f} ms  p90 {p90:6.2f} ms  total {figures['total']}")
    for name, best in asyncio.run(_time_service(args.db_dir, args.rounds * 5)).items():
        print(f"list_orders {name:14} min {best:6.2f} ms")


if __name__ == "__main__":
    main()
