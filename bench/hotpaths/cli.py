"""hotpaths_bench.py: each hot path on one server process, beside the bare Litestar route, with the same wrk.

Per database (SQLite, PostgreSQL with --db including postgres), one `orders-service serve` with the relay off
(so each figure is the request, not the courier sync riding on it), then in this order:

create     POST /api/orders, distinct customers, round robin for --duration
ship       POST /api/orders/{id}/ship, each of --orders confirmed orders once (If-Match)
picked     the sandbox courier's signed webhook (Standard Webhooks), `picked` for each shipped parcel once
delivered  then `delivered` for each (loyalty points, the delivered message through the outbox)
page       GET /o/<token>, the customer's edit page, round robin over --orders links
dashboard  GET /dashboard/orders with a staff session, round robin

The parcels get tracking codes by one UPDATE before the webhooks (the relay that would ask the courier is off).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import os
import secrets
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import msgspec
from benchlib.load import bounded, order_payload, unique_phones
from benchlib.postgres import asyncpg_dsn, database_url, fresh_database
from benchlib.results import machine, write_report
from benchlib.servers import BENCH_DIR, cli_path, create_key, free_port, run_command, running, server_env, wait_ready
from hotpaths.wrk import line, measure
from standardwebhooks import Webhook

REEXEC_VAR = "HOTPATHS_BENCH_REEXEC"
PATHS = ("create", "ship", "picked", "delivered", "page", "dashboard")
PASSWORD = "bench-password-1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=bounded(float, 0.5, 120), default=5.0, help="seconds per round-robin path")
    p.add_argument("--concurrency", type=bounded(int, 1, 64), default=4, help="connections (one per wrk thread)")
    p.add_argument("--orders", type=bounded(int, 1, 20000), default=200, help="orders shipped, delivered, linked")
    p.add_argument("--db", default="sqlite", help="comma list of sqlite, postgres")
    p.add_argument("--pg-url", default=os.environ.get("PG"), help="SQLAlchemy URL of the PostgreSQL server")
    p.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--smoke", action="store_true", help="each request once, no timed windows (the suite's check)")
    args = p.parse_args(argv)
    args.db = [d.strip() for d in args.db.split(",") if d.strip()]
    if unknown := set(args.db) - {"sqlite", "postgres"}:
        p.error(f"unknown --db {sorted(unknown)}")
    if "postgres" in args.db and not args.pg_url:
        p.error("--db postgres needs --pg-url or $PG")
    args.orders = max(args.orders, args.concurrency)
    return args


async def _parallel(calls: list[Any], limit: int = 4) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


async def _ok(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = await client.request(method, path, **kwargs)
    if response.status_code >= 300:
        raise RuntimeError(f"setup: {method} {path} answered {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else {}


async def _orders(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    bodies = [msgspec.json.encode(order_payload(p)) for p in unique_phones(count)]
    return await _parallel([lambda b=b: _ok(client, "POST", "/api/orders", content=b) for b in bodies])


async def _confirmed(client: httpx.AsyncClient, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async def confirm(o: dict[str, Any]) -> dict[str, Any]:
        headers = {"If-Match": f'"{o["version"]}"'}
        return await _ok(client, "POST", f"/api/orders/{o['id']}/confirm", headers=headers)

    return await _parallel([lambda o=o: confirm(o) for o in orders])


async def _give_tracking_codes(database: str | Path) -> None:
    sql = "UPDATE shipments SET tracking_code = 'HB' || client_code WHERE tracking_code IS NULL"
    if isinstance(database, Path):
        with sqlite3.connect(database) as conn:
            conn.execute(sql)
        return
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _webhooks(secret: str, shipped: list[dict[str, Any]], status: str, seq: int) -> list[str]:
    """One signed webhook per parcel; its tracking code is "HB" and the client code (the order's code, as
    ship_order made it for the first parcel)."""
    signer, now = Webhook(secret), datetime.datetime.now(datetime.UTC)
    requests = []
    for o in shipped:
        message_id = "msg_" + secrets.token_urlsafe(12)
        body = json.dumps(
            {
                "id": message_id,
                "type": "shipment.status",
                "tracking_code": "HB" + o["code"],
                "client_code": o["code"],
                "status": status,
                "occurred_at": now.isoformat(),
                "seq": seq,
            }
        ).encode()
        headers = {"content-type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": signer.sign(message_id, now, body.decode())}  # fmt: skip
        requests.append(line("POST", "/webhooks/couriers/sandbox", body, headers))
    return requests


async def _session_cookie(client: httpx.AsyncClient) -> str:
    await client.get("/dashboard/login")
    form = {"username": "bench", "password": PASSWORD}
    response = await client.post(
        "/dashboard/login", data=form, headers={"x-csrftoken": client.cookies.get("csrftoken", "")}
    )
    cookie = response.cookies.get("orders_session") or client.cookies.get("orders_session")
    if response.status_code != 303 or not cookie:
        raise RuntimeError(f"setup: dashboard login answered {response.status_code}: {response.text[:300]}")
    return str(cookie)


async def server_run(db: str, env: dict[str, str], database: str | Path, args: argparse.Namespace, work: Path) -> Any:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    env = env | {
        "ORDERS_RELAY": "off", "ORDERS_SANDBOX_TOKEN": "sbx_" + secrets.token_urlsafe(16),
        "ORDERS_SANDBOX_WEBHOOK_SECRET": secret, "ORDERS_LINK_TOKEN_LIMIT": "100000000",
        "ORDERS_LINK_CLIENT_LIMIT": "100000000",
    }  # fmt: skip
    port, log = free_port(), work / f"server-{db}.log"
    base = f"http://127.0.0.1:{port}"
    argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    results: dict[str, Any] = {}
    async with running(argv, env, log, REPO_CWD) as server:
        async with httpx.AsyncClient(base_url=base, timeout=30) as probe:
            await wait_ready(server, log, lambda: probe.get("/health"))
        user = [cli_path(), "users", "create", "--username", "bench", "--role", "staff", "--password", PASSWORD]
        key, _ = await asyncio.gather(create_key(env, REPO_CWD), run_command(user, env, REPO_CWD))
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=auth) as client:
            c, run = (
                args.concurrency,
                lambda name, reqs, mode: measure(name, base, reqs, mode, args.duration, c, server.pid, work),
            )
            repeat = "once" if args.smoke else "cycle"  # the smoke: each request once, no timed window

            bodies = [msgspec.json.encode(order_payload(p)) for p in unique_phones(2 * c if args.smoke else 2000)]
            creates = [line("POST", "/api/orders", b, auth) for b in bodies]
            results["create"] = await run("create", creates, repeat)

            confirmed = await _confirmed(client, await _orders(client, args.orders))
            ship = [line("POST", f"/api/orders/{o['id']}/ship", None, auth | {"If-Match": f'"{o["version"]}"'})
                    for o in confirmed]  # fmt: skip
            results["ship"] = await run("ship", ship, "once")

            await _give_tracking_codes(database)
            results["picked"] = await run("picked", _webhooks(secret, confirmed, "picked", 1), "once")
            results["delivered"] = await run("delivered", _webhooks(secret, confirmed, "delivered", 2), "once")

            linked = await _orders(client, args.orders)
            links = [await _ok(client, "POST", f"/api/orders/{o['id']}/edit-link") for o in linked]
            pages = [line("GET", httpx.URL(x["url"]).path) for x in links]
            results["page"] = await run("page", pages, repeat)

        async with httpx.AsyncClient(base_url=base, timeout=30) as browser:
            cookie = await _session_cookie(browser)
        dashboard = [line("GET", "/dashboard/orders", None, {"Cookie": f"orders_session={cookie}"})]
        results["dashboard"] = await run("dashboard", dashboard * c, repeat)
    return results


REPO_CWD = BENCH_DIR.parent


async def bare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    port, log = free_port(), work / "bare.log"
    argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--host", "127.0.0.1", "--port", str(port)]
    body = json.dumps({"operations": [{"op": "set_quantity", "line_id": str(uuid4()), "quantity": 2}]}).encode()
    path = f"/bare/orders/{uuid4()}/amendments"
    async with running(argv, dict(os.environ), log, work) as server, httpx.AsyncClient() as probe:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(server, log, lambda: probe.post(base + path, content=body))
        reqs = [line("POST", path, body, {"Content-Type": "application/json"})] * args.concurrency
        mode = "once" if args.smoke else "cycle"
        return await measure("bare", base, reqs, mode, args.duration, args.concurrency, server.pid, work)


async def run(args: argparse.Namespace) -> int:
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {"started": started.isoformat(), "machine": machine(), "args": vars(args) | {
        "results_dir": str(args.results_dir), "pg_url": None}, "databases": {}}  # fmt: skip
    failed = False
    with tempfile.TemporaryDirectory(prefix="hotpaths-") as tmp:
        work = Path(tmp)
        report["bare"] = baseline = await bare(args, work)
        for db in args.db:
            try:
                if db == "sqlite":
                    data = work / "sqlite-data"
                    env = server_env(data, None, {}, REEXEC_VAR)
                    found = await server_run(db, env, data / "orders.db", args, work)
                else:
                    name = f"hotpaths_{started:%Y%m%d_%H%M%S}_{os.getpid()}"
                    async with fresh_database(args.pg_url, name):
                        env = server_env(work / "pg-data", database_url(args.pg_url, name), {}, REEXEC_VAR)
                        found = await server_run(db, env, asyncpg_dsn(args.pg_url, name), args, work)
            except Exception as exc:  # a failed database is reported, and the run exits 1
                failed = True
                report["databases"][db] = {"error": f"{type(exc).__name__}: {exc}"[:3000]}
                print(f"{db}: FAILED {exc}"[:3000], flush=True)
                continue
            for result in found.values():
                result["over_bare"] = round(result["rate"] / baseline["rate"], 4) if baseline["rate"] else None
                failed = failed or result["failed"] > 0 or result["ok"] == 0
            report["databases"][db] = found
    print_table(report)
    path = write_report(args.results_dir, "hotpaths", started, report)
    print(f"results: {path}")
    return 1 if failed else 0


def print_table(report: dict[str, Any]) -> None:
    head = (
        f"{'db':8} {'path':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'/bare':>7} {'failed':>6}"
    )
    print(head)
    rows = [("-", report["bare"])] + [
        (db, r) for db, found in report["databases"].items() if "error" not in found for r in found.values()
    ]
    for db, r in rows:
        ratio = "" if r.get("over_bare") is None else f"{r['over_bare']:.4f}"
        print(f"{db:8} {r['path']:10} {r['rate']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['cpu_ms_per_request'] or 0:>10.2f} {ratio:>7} {r['failed']:>6}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))
