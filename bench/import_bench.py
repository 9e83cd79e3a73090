"""Import rate and memory: 100,000 generated CSV rows of products and of customers, on SQLite and PostgreSQL.

For each database (a fresh SQLite file, a fresh PostgreSQL database) and each kind, three runs, each in a child
process of its own so that its peak memory (resource.getrusage ru_maxrss) is its own:

- ``import``: ``orders_service.imports.services.import_csv`` on the file, as ``orders-service import`` runs it
  (batches of 500 rows, each committed; customers found or created by phone, products upserted by SKU);
- ``raw``: the baseline, the same rows read with the csv module and inserted by SQLAlchemy Core executemany in
  batches of 500, one transaction each, into a bare table with the same columns (no checks, no lookups);
- ``load-all``: the file read whole into a list of rows, as an import that loads the file would hold it.

It prints rows/s and peak RSS of each, and writes bench/results/import-<ts>.json.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--db sqlite,postgres] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

try:
    from benchlib.postgres import database_url, fresh_database, shown_url
    from benchlib.results import machine, versions, write_report
    from benchlib.servers import BENCH_DIR, REPO
    from sqlalchemy import Column, Integer, MetaData, Table, Text
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from orders_service.db.engine import create_engine
    from orders_service.db.migrate import upgrade
    from orders_service.imports.formats import Kind
    from orders_service.imports.services import import_csv
    from orders_service.infra.settings import Settings
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("IMPORT_BENCH_REEXEC"):
        os.environ["IMPORT_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

BATCH = 500
SIZES = ("S", "M", "L", "XL")
COLORS = ("đỏ", "xanh", "đen", "trắng")
PRODUCT_HEADER = ["sku", "name", "weight_g", "size", "color", "price", "stock"]
CUSTOMER_HEADER = ["name", "phones", "emails", "birthday", "tags"]


def write_products(path: Path, rows: int) -> None:
    """`rows` variants, four sizes per product."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(PRODUCT_HEADER)
        for i in range(rows):
            product = i // len(SIZES)
            writer.writerow(
                [
                    f"P{product:07d}",
                    f"Sản phẩm {product}",
                    200 + product % 700,
                    SIZES[i % len(SIZES)],
                    COLORS[product % len(COLORS)],
                    100_000 + (product % 50) * 10_000,
                    i % 40,
                ]
            )


def write_customers(path: Path, rows: int) -> None:
    """`rows` customers with distinct mobile numbers; every tenth has a second phone, every third an email."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CUSTOMER_HEADER)
        for i in range(rows):
            phones = f"090{i:07d}" + (f"; 091{i:07d}" if i % 10 == 0 else "")
            writer.writerow(
                [
                    f"Khách hàng {i}",
                    phones,
                    f"khach{i}@example.vn" if i % 3 == 0 else "",
                    f"{1970 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}" if i % 2 == 0 else "",
                    "vip" if i % 7 == 0 else "",
                ]
            )


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def _baseline_table(kind: str) -> Table:
    header = PRODUCT_HEADER if kind == "products" else CUSTOMER_HEADER
    numbers = {"weight_g", "price", "stock"}
    columns = [Column(name, Integer if name in numbers else Text) for name in header]
    return Table(f"bench_raw_{kind}", MetaData(), *columns)


async def measure(mode: str, kind: str, path: Path) -> dict[str, Any]:
    """One run in this process: rows, seconds, rows/s, and peak RSS before and after."""
    settings = Settings.from_env()
    engine = create_engine(settings)
    rows = 0
    before_kb = _peak_kb()
    began = time.perf_counter()
    try:
        if mode == "import":
            with path.open("rb") as raw:
                _, totals = await import_csv(
                    async_sessionmaker(engine, expire_on_commit=False), Kind(kind), raw, on_result=lambda _r: None
                )
            rows = totals.rows
            failed = totals.errors
        elif mode == "raw":
            table = _baseline_table(kind)
            async with engine.begin() as conn:
                await conn.run_sync(lambda sync: table.drop(sync, checkfirst=True))
                await conn.run_sync(lambda sync: table.create(sync))
            began = time.perf_counter()
            with path.open(newline="", encoding="utf-8") as text:
                reader = csv.DictReader(text)
                batch: list[dict[str, Any]] = []
                for row in reader:
                    batch.append({k: (int(v) if k in {"weight_g", "price", "stock"} else v) for k, v in row.items()})
                    if len(batch) == BATCH:
                        async with engine.begin() as conn:
                            await conn.execute(table.insert(), batch)
                        rows += len(batch)
                        batch = []
                if batch:
                    async with engine.begin() as conn:
                        await conn.execute(table.insert(), batch)
                    rows += len(batch)
            failed = 0
        else:  # load-all
            with path.open(newline="", encoding="utf-8") as text:
                loaded = list(csv.reader(text))
            rows = len(loaded) - 1
            failed = 0
    finally:
        await engine.dispose()
    seconds = time.perf_counter() - began
    return {
        "mode": mode,
        "kind": kind,
        "rows": rows,
        "failed": failed,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds > 0 else None,
        "peak_rss_mb_before": round(before_kb / 1024, 1),
        "peak_rss_mb": round(_peak_kb() / 1024, 1),
    }


def in_child(mode: str, kind: str, path: Path, env: dict[str, str]) -> dict[str, Any]:
    """`measure` in a fresh Python, so that the peak memory is that run's alone."""
    argv = [sys.executable, __file__, "--child", mode, kind, str(path)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_env(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    env |= {"DATABASE_URL": url, "ORDERS_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    env["IMPORT_BENCH_REEXEC"] = "1"
    return env


async def run_db(db: str, rows: int, pg_url: str | None, *, separate: bool = True) -> dict[str, Any]:
    """Every mode and kind on one fresh database; `separate=False` runs them in this process (the smoke test)."""
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        data_dir = Path(tmp)
        name = f"import_bench_{uuid.uuid4().hex[:8]}"
        url = database_url(pg_url, name) if db == "postgres" and pg_url else f"sqlite+aiosqlite:///{data_dir}/orders.db"
        pg_database = fresh_database(pg_url, name) if db == "postgres" and pg_url else contextlib.nullcontext()
        async with pg_database as server_version:
            env = child_env(url, data_dir)
            await asyncio.to_thread(_migrate, env)
            files = {"products": data_dir / "products.csv", "customers": data_dir / "customers.csv"}
            write_products(files["products"], rows)
            write_customers(files["customers"], rows)
            result: dict[str, Any] = {
                "database": shown_url(pg_url, name) if db == "postgres" and pg_url else "sqlite",
                "server_version": server_version,
                "file_mb": {kind: round(path.stat().st_size / 1e6, 1) for kind, path in files.items()},
                "runs": [],
            }
            for kind, path in files.items():
                for mode in ("import", "raw", "load-all"):
                    if separate:
                        run = await asyncio.to_thread(in_child, mode, kind, path, env)
                    else:
                        with _environment(env):
                            run = await measure(mode, kind, path)
                    result["runs"].append(run)
    return result


def _migrate(env: dict[str, str]) -> None:
    with _environment(env):
        upgrade(Settings.from_env())


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def print_db(db: str, result: dict[str, Any]) -> None:
    print(f"{db}: {result['database']}")
    for kind in ("products", "customers"):
        runs = {r["mode"]: r for r in result["runs"] if r["kind"] == kind}
        raw = runs["raw"]["rows_per_s"] or 1
        print(f"  {kind} ({runs['import']['rows']} rows, {result['file_mb'][kind]} MB)")
        for mode in ("import", "raw", "load-all"):
            r = runs[mode]
            rate = f"{r['rows_per_s']:>8} rows/s" if mode != "load-all" else " " * 15
            ratio = f"  ({r['rows_per_s'] / raw:.2f} x raw)" if mode == "import" else ""
            print(
                f"    {mode:<9} {rate}  {r['seconds']:>7} s  peak RSS {r['peak_rss_mb']:>6} MB"
                f" (at start {r['peak_rss_mb_before']} MB){ratio}"
            )


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(asyncio.run(measure(sys.argv[2], sys.argv[3], Path(sys.argv[4])))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per file [100000]")
    parser.add_argument("--db", default="sqlite,postgres", help="comma list of sqlite,postgres [both]")
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
        "versions": versions(["sqlalchemy", "asyncpg", "aiosqlite"]),
        "runs": {},
    }
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        report["runs"][db] = asyncio.run(run_db(db, args.rows, pg_url))
        print_db(db, report["runs"][db])
    print(f"wrote {write_report(args.results_dir, 'import', started, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
