"""The embedded engine: the relay as a background task of the API process (one process, no broker)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.relay.core import Handler, drain

log = logging.getLogger(__name__)


class EmbeddedRelay:
    COALESCE_S = 0.05
    STOP_WAIT_S = 10.0

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        interval_s: float = 0.2,
        backoff_s: float = 1.0,
        lease_s: float = 30.0,
    ):
        self.db, self.handlers, self.interval_s, self.backoff_s = db, handlers, interval_s, backoff_s
        self.lease = datetime.timedelta(seconds=lease_s)
        self._task: asyncio.Task[None] | None = None
        self._wake, self._stopping = asyncio.Event(), False

    def wake(self) -> None:
        """Something was committed to the outbox: look now rather than at the next tick."""
        self._wake.set()

    async def start(self) -> None:
        self._wake, self._stopping = asyncio.Event(), False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Let the pass under way finish (a transaction cut in half would hold SQLite's writer queue)."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.STOP_WAIT_S)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await drain(self.db, self.handlers, backoff_s=self.backoff_s, lease=self.lease)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: keep the relay alive and try again
                log.exception("outbox relay pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
                if not self._stopping:  # woken by a commit: let the edits that follow share one pass
                    await asyncio.sleep(self.COALESCE_S)
            self._wake.clear()


class Daily:
    """The embedded engine's beat for slow schedules: run `job` at start, then every `every_s` (a day)."""

    def __init__(self, name: str, job: Callable[[], Awaitable[object]], every_s: float = 86_400.0):
        self.name, self.job, self.every_s = name, job, every_s
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Let a pass under way finish, like the relay; wait no longer than it does."""
        if self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=EmbeddedRelay.STOP_WAIT_S)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception:  # tomorrow's pass catches up: each job is idempotent
                log.exception("%s failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.every_s)


class Interval(Daily):
    """A job every `every_s`, the first one period after start (a restart does not call every courier at once).

    It runs as its own task: however long a pass takes, the relay's loop goes on.
    """

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.every_s)
            if self._stop.is_set():
                return
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next pass catches up: each job is idempotent
                log.exception("%s failed", self.name)
