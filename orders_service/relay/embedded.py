"""The embedded engine: the relay as a background task of the API process (one process, no broker)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.infra.settings import Settings
from orders_service.ops import metrics
from orders_service.relay.core import GIVE_UP_S, Handler, Pump

log = logging.getLogger(__name__)


class EmbeddedRelay:
    """Passes of the relay one after the other, woken by commits, and a watchdog over them.

    A pass records outcomes as its handlers finish, and a handler that overruns its deadline is cancelled; so a
    pass that records nothing for `watchdog_s` while it has work under way is wedged (a handler that will not
    be cancelled, a database call that never returns). The watchdog then cancels it, gives the messages it held
    back to the outbox as failed attempts (retried with backoff, dead-lettered if it keeps happening), starts a
    new pass, and says so: an ERROR in the log and `orders_relay_restarts_total` in /metrics.
    """

    COALESCE_S = 0.05
    STOP_WAIT_S = 10.0

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        interval_s: float = 0.2,
        backoff_s: float = 1.0,
        lease_s: float = 30.0,
        *,
        renew_s: float | None = None,
        deadline_s: float = 60.0,
        watchdog_s: float = 120.0,
        concurrency: int = 8,
        max_attempts: int = 15,
    ):
        self.db, self.handlers, self.interval_s, self.backoff_s = db, handlers, interval_s, backoff_s
        self.lease = datetime.timedelta(seconds=lease_s)
        self.renew_s, self.deadline_s, self.watchdog_s = renew_s, deadline_s, watchdog_s
        self.concurrency, self.max_attempts = concurrency, max_attempts
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._pump: Pump | None = None
        self._idle_at = time.monotonic()
        self._wake, self._stopping = asyncio.Event(), False

    @classmethod
    def from_settings(
        cls, db: async_sessionmaker[AsyncSession], handlers: Mapping[str, Handler], settings: Settings
    ) -> EmbeddedRelay:
        return cls(
            db,
            handlers,
            backoff_s=settings.relay_backoff_s,
            lease_s=settings.relay_lease_s,
            renew_s=settings.lease_renew_s,
            deadline_s=settings.relay_deadline_s,
            watchdog_s=settings.relay_watchdog_s,
            concurrency=settings.relay_concurrency,
            max_attempts=settings.relay_max_attempts,
        )

    def wake(self) -> None:
        """Something was committed to the outbox: look now rather than at the next tick."""
        self._wake.set()

    async def start(self) -> None:
        self._wake, self._stopping = asyncio.Event(), False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._watchdog = asyncio.create_task(self._watch(), name="outbox-relay-watchdog")

    async def stop(self) -> None:
        """Let the pass under way finish (a transaction cut in half would hold SQLite's writer queue)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.wait([self._watchdog])
            self._watchdog = None
        if self._task is None:
            return
        self._stopping = True
        if self._pump is not None:
            self._pump.finish()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.STOP_WAIT_S)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def progress_at(self) -> float:
        """When the relay last recorded an outcome or had nothing under way (monotonic seconds)."""
        pump = self._pump
        return pump.progress_at if pump is not None else self._idle_at

    async def _run(self) -> None:
        while not self._stopping:
            pump = self._pump = Pump(
                self.db,
                self.handlers,
                backoff_s=self.backoff_s,
                concurrency=self.concurrency,
                lease=self.lease,
                renew_s=self.renew_s,
                deadline_s=self.deadline_s,
                max_attempts=self.max_attempts,
            )
            try:
                await pump.run()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: keep the relay alive and try again
                log.exception("outbox relay pass failed")
            finally:
                if self._pump is pump:  # not a pass the watchdog replaced meanwhile
                    self._pump, self._idle_at = None, time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
                if not self._stopping:  # woken by a commit: let the edits that follow share one pass
                    await asyncio.sleep(self.COALESCE_S)
            self._wake.clear()
            self._idle_at = time.monotonic()

    async def _watch(self) -> None:
        every_s = min(5.0, max(0.05, self.watchdog_s / 4))
        while True:
            await asyncio.sleep(every_s)
            stalled_s = time.monotonic() - self.progress_at()
            if stalled_s > self.watchdog_s and not self._stopping:
                await self._restart(stalled_s)

    async def _restart(self, stalled_s: float) -> None:
        pump, task = self._pump, self._task
        self.restarts += 1
        if task is not None:
            task.cancel()
            await asyncio.wait([task], timeout=GIVE_UP_S)
        if pump is not None:
            await pump.give_back(f"no progress for {stalled_s:.0f} s while work was due; the relay was restarted")
        else:
            metrics.relay_restarted()
            log.error("outbox relay: no progress for %.0f s; restarted", stalled_s)
        self._pump, self._idle_at = None, time.monotonic()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")


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
