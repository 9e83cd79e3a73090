"""The outbox, read straight from the database (read-only): backlog and errors."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import asyncpg

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
