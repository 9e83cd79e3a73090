"""Mode 3: the same statements through the driver (aiosqlite or asyncpg), one connection per worker."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import aiosqlite
import asyncpg
from benchlib.servers import (
    START_TIMEOUT,
)

from amend.domain import BenchOrder, Plan, StepError, as_uuid, plan_amendment, sqlite_time, write_values
from amend.load import LoadResult, run_load, split_orders
from amend.statements import READS, Replay

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
            as_uuid(r[0]): r[1] for r in await connections[0].execute_fetchall("SELECT id, version FROM orders")
        }
        lines = await connections[0].execute_fetchall("SELECT id, quantity FROM order_lines")
        _refresh(orders, versions, {as_uuid(r[0]): r[1] for r in lines})

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
                            now = sqlite_time(datetime.datetime.now(datetime.UTC))
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
        versions = {as_uuid(r[0]): r[1] for r in await connections[0].fetch("SELECT id, version FROM orders")}
        lines = await connections[0].fetch("SELECT id, quantity FROM order_lines")
        _refresh(orders, versions, {as_uuid(r[0]): r[1] for r in lines})

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


def sqlite_synchronous(extra: dict[str, str]) -> str:
    """The synchronous setting the server's engine uses (orders_service.db.engine), for the raw-SQL mode too."""
    value = extra.get("ORDERS_SQLITE_SYNCHRONOUS", "FULL").upper()
    return value if value in {"FULL", "NORMAL"} else "FULL"
