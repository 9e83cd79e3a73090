"""Quotes for many orders from every courier at once (orders_service/shipping/quotes.py), with one courier slow.

Each order asks the sandbox, GHN and GHTK (the real adapters, against the sandbox server and the GHN and GHTK
fakes, in process) within the quote bound, as `GET /api/orders/{id}/quotes` does. Two rounds in the same run:
the baseline (every courier answers at once) and the same orders with GHTK answering `--slow-ms` late. Printed:
orders quoted per second and the p50/p99 time of one order's quotes, side by side; with `--slow-ms` above the
bound, GHTK is listed unavailable and p99 stays at the bound.

    PYTHONPATH=$PWD python bench/quote_bench.py                   # 1,000 orders, 10 in flight, GHTK 300 ms late
    PYTHONPATH=$PWD python bench/quote_bench.py --slow-ms 3000    # GHTK past the 2 s bound: listed unavailable
    PYTHONPATH=$PWD python bench/quote_bench.py --smoke           # 20 orders: that it runs (the tests do this)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import msgspec

from couriers.base import Address, Item, Parcel
from couriers.ghn import GhnConfig, GhnCourier
from couriers.ghtk import GhtkConfig, GhtkCourier
from couriers.sandbox.adapter import SandboxConfig, SandboxCourier, new_webhook_secret
from couriers.sandbox.server import SandboxServer, SandboxServerConfig
from fakes.ghn.server import FakeGhn
from fakes.ghtk.server import FakeGhtk
from orders_service.geo import distance_km, province_centroid, provinces, resolve_units, wards
from orders_service.infra.settings import Settings
from orders_service.shipping.quotes import quote_all
from orders_service.shipping.registry import CourierRegistry, shop_from

ORIGIN = 79  # the default warehouse: Hồ Chí Minh City


class Late(httpx.AsyncBaseTransport):
    """The way to one courier, `delay_s` late on every call while `delay_s` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.delay_s = inner, 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return await self.inner.handle_async_request(request)


def parcels(count: int, seed: int) -> list[Parcel]:
    """`count` parcels to wards all over the country, of 200 g to 5 kg, with CODs up to 3 million VND."""
    rng = random.Random(seed)
    codes = [code for code, _ in provinces()]
    made = []
    for i in range(count):
        province = rng.choice(codes)
        ward, _ = rng.choice(wards(province))
        units = resolve_units(province, ward)
        address = Address("1 Đường Số 1", ward, province, units.ward_name, units.province_name)
        price = rng.randrange(100, 3_000) * 1_000
        item = Item(sku="SKU-1", name="Áo", quantity=1, unit_price=price)
        made.append(
            Parcel(
                client_code=f"Q{i}",
                recipient_name="Nguyễn Thị Lan",
                phones=("+84901234567",),
                address=address,
                items=(item,),
                cod_amount=price,
                value=price,
                fee_payer="customer",
                weight_g=rng.randrange(200, 5_000),
            )
        )
    return made


def couriers() -> tuple[CourierRegistry, Late, list[httpx.AsyncClient]]:
    shop = shop_from(Settings(data_dir=Path("."), database_url="sqlite+aiosqlite://"))
    ghn, ghtk = FakeGhn(), FakeGhtk()
    secret = new_webhook_secret()
    sandbox = SandboxServer(
        SandboxServerConfig(token="bench", webhook_secret=secret),
        lambda origin, dest: distance_km(province_centroid(origin), dest),
    )
    late = Late(ghtk.transport())
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=ghn.app)),  # type: ignore[arg-type]
        httpx.AsyncClient(transport=late),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)),  # type: ignore[arg-type]
    ]
    base = "http://ghn.bench/shiip/public-api"
    adapters = [
        GhnCourier(
            GhnConfig(token=ghn.token, shop_id=885_001, shop=shop, webhook_secret="s", base_url=base), clients[0]
        ),
        GhtkCourier(
            GhtkConfig(
                token=ghtk.token,
                partner_code=ghtk.partner_code,
                shop=msgspec.structs.replace(shop, phone="+84901112233"),
                webhook_secret="s",
                base_url="http://ghtk.bench",
            ),
            clients[1],
        ),
        SandboxCourier(SandboxConfig("http://sandbox.bench", "bench", secret, ORIGIN), clients[2]),
    ]
    return CourierRegistry({c.name: c for c in adapters}, max_in_flight=1_000), late, clients


async def round_of(
    registry: CourierRegistry, orders: Sequence[Parcel], bound_s: float, in_flight: int
) -> dict[str, Any]:
    gate = asyncio.Semaphore(in_flight)
    times: list[float] = []
    unavailable: dict[str, int] = {}

    async def one(parcel: Parcel) -> None:
        async with gate:
            started = time.perf_counter()
            quotes = await quote_all(registry, ORIGIN, parcel, bound_s)
            times.append(time.perf_counter() - started)
        for quote in quotes:
            if not quote.available:
                unavailable[quote.courier] = unavailable.get(quote.courier, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(one(parcel) for parcel in orders))
    wall = time.perf_counter() - started
    ordered = sorted(times)
    return {
        "orders": len(orders),
        "orders_per_s": round(len(orders) / wall, 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "unavailable": unavailable,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    registry, late, clients = couriers()
    orders = parcels(args.orders, args.seed)
    try:
        await round_of(registry, orders[: min(20, len(orders))], args.bound_s, args.in_flight)  # warm the caches
        baseline = await round_of(registry, orders, args.bound_s, args.in_flight)
        late.delay_s = args.slow_ms / 1000
        slow = await round_of(registry, orders, args.bound_s, args.in_flight)
    finally:
        late.delay_s = 0
        await registry.aclose()
        for client in clients:
            await client.aclose()
    return {
        "args": {k: v for k, v in vars(args).items() if k != "results"},
        "baseline": baseline,
        "ghtk_slow": slow,
    }


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--in-flight", type=int, default=10, help="orders quoted at once")
    parser.add_argument("--slow-ms", type=int, default=300, help="how late GHTK answers in the second round")
    parser.add_argument("--bound-s", type=float, default=2.0, help="ORDERS_QUOTE_TIMEOUT_S: the wait for all")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--results", type=Path, help="write the figures to this JSON file too")
    parser.add_argument("--smoke", action="store_true", help="20 orders, GHTK 20 ms late, a 10 s bound")
    args = parser.parse_args(argv)
    if args.smoke:  # a bound no loaded machine reaches: the smoke checks answers, not times
        args.orders, args.slow_ms, args.bound_s, args.in_flight = 20, 20, 10.0, 10
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per courier call would be most of the time
    report = asyncio.run(run(args))
    print(f"{'round':<12}{'orders/s':>10}{'p50 ms':>10}{'p99 ms':>10}  unavailable")
    for name in ("baseline", "ghtk_slow"):
        r = report[name]
        print(f"{name:<12}{r['orders_per_s']:>10}{r['p50_ms']:>10}{r['p99_ms']:>10}  {r['unavailable'] or '-'}")
    if args.results:
        args.results.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
