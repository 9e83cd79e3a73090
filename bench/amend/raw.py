"""Mode 3: the same statements through the driver (sqlite3 or asyncpg), one connection per worker.

On SQLite the statements go to a thread in the trips the app makes (orders_service/db/sqlite_trips.py): the
BEGIN with the first read, each read with the writes before it, the writes after the last read with the COMMIT.
An amendment is two trips, as in the app; one trip per statement (seven) would flatter the app's ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from benchlib.servers import (
    START_TIMEOUT,
)

from amend.domain import BenchOrder, Plan, StepError, as_uuid, plan_amendment, sqlite_time, write_values
from amend.load import LoadResult, run_load, split_orders
from amend.statements import READS, Replay, Step

# ---------------------------------------------------------------------------------------------------------------
# Mode 3: the same statements through the driver.
# ---------------------------------------------------------------------------------------------------------------

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous={synchronous}",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


def _trip(conn: sqlite3.Connection, statements: Sequence[tuple[str, Sequence[Any]]], read: bool) -> list[Any]:
    """Run `statements` in order on the connection's thread turn; the last one's rows when `read`."""
    rows: list[Any] = []
    for i, (sql, params) in enumerate(statements):
        cursor = conn.execute(sql, params)
        if read and i == len(statements) - 1:
            rows = cursor.fetchall()
        cursor.close()
    return rows


async def raw_sqlite(db_path: Path, orders: list[BenchOrder], replay: Replay, args: argparse.Namespace) -> LoadResult:
    """sqlite3, one connection per worker, set up as orders_service.db.engine sets up its connections, each
    trip one hop to a thread as the app's to aiosqlite's (see the module's docstring)."""
    connections: list[sqlite3.Connection] = []
    # A thread per connection, as aiosqlite has: a writer waiting for the lock (busy_timeout) holds only its own.
    threads = [ThreadPoolExecutor(max_workers=1) for _ in range(args.concurrency)]
    loop = asyncio.get_running_loop()
    try:
        for _ in range(args.concurrency):
            conn = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
            connections.append(conn)
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma.format(synchronous=sqlite_synchronous(args.server_env))).close()
        versions = {as_uuid(r[0]): r[1] for r in connections[0].execute("SELECT id, version FROM orders").fetchall()}
        lines = connections[0].execute("SELECT id, quantity FROM order_lines").fetchall()
        _refresh(orders, versions, {as_uuid(r[0]): r[1] for r in lines})

        async def step(index: int, order: BenchOrder) -> None:
            conn, thread = connections[index], threads[index]
            state = _State(order, replay, sqlite=True)
            waiting: list[tuple[str, Sequence[Any]]] = []  # go with the next read, or with the COMMIT
            try:
                for step in replay.steps:
                    if step.kind == "begin":
                        waiting.append((step.sql, ()))
                    elif step.kind == "commit":
                        await loop.run_in_executor(thread, _trip, conn, [*waiting, ("COMMIT", ())], False)
                        waiting = []
                    elif step.kind in READS:
                        statements = [*waiting, (step.sql, (state.bind(step),))]
                        rows = await loop.run_in_executor(thread, _trip, conn, statements, True)
                        waiting = []
                        state.read(step, rows)
                    else:
                        now = sqlite_time(datetime.datetime.now(datetime.UTC))
                        waiting.append((step.sql, state.write(step, now)))
            except BaseException:
                if conn.in_transaction:
                    await loop.run_in_executor(thread, conn.rollback)
                raise
            state.done()

        print(f"  sqlite: raw SQL through sqlite3 in the app's trips for {args.duration:g} s ...", flush=True)
        owned = split_orders(orders, args.concurrency)
        return await run_load("raw-sql", "sqlite", step, owned, args.duration, args.warmup)
    finally:
        for conn in connections:
            conn.close()
        for thread in threads:
            thread.shutdown()


class _State:
    """One amendment's replay: what its reads returned, and the values its writes bind."""

    def __init__(self, order: BenchOrder, replay: Replay, *, sqlite: bool) -> None:
        self.order, self.replay, self.sqlite = order, replay, sqlite
        self.order_row: Any = None
        self.line_rows: list[Any] = []
        self.plan: Plan | None = None
        self.topics = list(replay.outbox_topics)  # taken in turn by the outbox INSERTs

    def _uid(self, value: UUID) -> Any:
        return value.bytes if self.sqlite else str(value)

    def bind(self, step: Step) -> Any:
        if step.binds == "sku":
            if not self.line_rows:
                raise StepError("the catalogue's read comes before the order's lines")
            return self.line_rows[0][self.replay.line_columns["sku"]]
        if step.binds == "customer":
            if self.order_row is None:
                raise StepError("the customer's read comes before the order's")
            return self._uid(as_uuid(self.order_row[self.replay.order_columns["customer_id"]]))
        return self._uid(self.order.id)

    def read(self, step: Step, rows: list[Any]) -> None:
        if step.kind == "order":
            self.order_row = rows[0] if rows else None
            if self.replay.lines_joined:
                self.line_rows = rows
        elif step.kind == "lines":
            self.line_rows = rows

    def write(self, step: Step, now: Any) -> tuple[Any, ...]:
        if step.kind == "writes":  # several writes in one statement: each part's values at its $N
            values: dict[int, Any] = {}
            for part in step.parts:
                values.update(zip(part.numbers, self.write(part, now), strict=True))
            return tuple(values[n] for n in range(1, len(values) + 1))
        if self.plan is None:
            if self.order_row is None:
                raise StepError("order not found")
            self.plan = plan_amendment(self.order, self.order_row, self.line_rows, self.replay)
        topics = [self.topics.pop(0) for _ in range(step.rows)] if step.kind == "insert_outbox" else []
        return write_values(step.kind, step.columns, self.plan, self.order, now, self.sqlite, topics)

    def done(self) -> None:
        if self.plan is not None:
            self.order.version, self.order.quantity = self.plan.version, self.plan.quantity


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
            conn = connections[index]
            state = _State(order, replay, sqlite=False)
            transaction = conn.transaction()  # BEGIN, as SQLAlchemy's asyncpg adapter does on the first statement
            await transaction.start()
            try:
                for step in replay.steps:
                    if step.kind == "commit":
                        await transaction.commit()
                    elif step.kind in READS:
                        state.read(step, await conn.fetch(step.sql, state.bind(step)))
                    elif step.kind != "begin":
                        await conn.execute(step.sql, *state.write(step, datetime.datetime.now(datetime.UTC)))
            except BaseException:
                if not conn.is_closed() and conn.is_in_transaction():
                    await transaction.rollback()
                raise
            state.done()

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
