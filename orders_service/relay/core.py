"""The relay's pump, the same for the in-process engine and for Celery workers.

A pump claims due messages with a short lease, renews it while their handlers run, and records each outcome as
soon as it is known. Messages are handled side by side, up to `concurrency` at once, and the pump keeps
claiming while some run: one slow courier call holds its own message, never the ones behind it. Every handler
has a deadline, so a call that never answers fails its message (retried with backoff) instead of the pump.

A relay that dies mid-pass (a worker killed, a server restarted) stops renewing: its messages are due again
within one lease, and handlers are idempotent, so a message cut short is run again, never lost.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from couriers.base import CourierError
from notifications.providers import ProviderError
from orders_service.db.leases import kept_alive
from orders_service.db.models import OutboxMessage
from orders_service.ops import context, metrics
from orders_service.relay.store import (
    BACKOFF_BASE_S,
    LEASE,
    MAX_ATTEMPTS,
    Outcome,
    backoff,
    claim,
    release,
    renew,
    settle,
    settle_and_claim,
)

__all__ = ["LEASE", "Handler", "Outcome", "Pump", "backoff", "bounded_pass", "claim", "drain", "handle", "settle"]

log = logging.getLogger(__name__)
Handler = Callable[[OutboxMessage], Awaitable[str]]
DEADLINE_S = 60.0
POLL_S = 0.2  # how often a pump with work in hand looks for more
GIVE_UP_S = 1.0  # how long a stopped pump waits for its handlers to take their cancellation
Family = tuple[str, str]  # (topic family, key): messages about the same thing share one handler run


def _handler_for(topic: str, handlers: Mapping[str, Handler]) -> Handler | None:
    return handlers.get(topic) or handlers.get(topic.split(".", 1)[0] + ".")


async def handle(message: OutboxMessage, handlers: Mapping[str, Handler], deadline_s: float = DEADLINE_S) -> Outcome:
    # Lines logged while handling an order's message name the order (each handler runs in its own task).
    context.order_id.set(message.key if message.topic.startswith("order.") else None)
    handler = _handler_for(message.topic, handlers)
    if handler is None:
        return Outcome(message, "failed", f"no handler for topic {message.topic}")
    deadline = asyncio.timeout(deadline_s)
    try:
        async with deadline:
            return Outcome(message, await handler(message))
    except (CourierError, ProviderError) as error:
        return Outcome(message, "retry" if error.transient else "failed", error.message)
    except TimeoutError as error:
        if not deadline.expired():  # the handler's own timeout, not ours
            log.exception("relay handler for %s failed", message.topic)
            return Outcome(message, "retry", f"{type(error).__name__}: {error}")
        log.warning("relay handler for %s %s did not finish within %g s", message.topic, message.key, deadline_s)
        return Outcome(message, "retry", f"did not finish within {deadline_s:g} s")
    except Exception as error:  # a bug or an outage: retry rather than lose the message
        log.exception("relay handler for %s failed", message.topic)
        return Outcome(message, "retry", f"{type(error).__name__}: {error}")


def _family(message: OutboxMessage) -> Family:
    return (message.topic.split(".", 1)[0], message.key)


class Pump:
    """One pass of the relay over the outbox: runs until nothing is due and nothing is in hand.

    `progress_at` (monotonic) moves whenever the pump records outcomes or has nothing under way: a watchdog that
    sees it stand still for longer than any handler may take knows the pump is wedged (relay/embedded.py).
    """

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        *,
        batch: int = 50,
        backoff_s: float = BACKOFF_BASE_S,
        concurrency: int = 8,
        lease: datetime.timedelta = LEASE,
        renew_s: float | None = None,
        deadline_s: float = DEADLINE_S,
        max_attempts: int = MAX_ATTEMPTS,
        poll_s: float = POLL_S,
    ) -> None:
        self.db, self.handlers, self.batch, self.backoff_s = db, handlers, batch, backoff_s
        self.concurrency, self.lease, self.deadline_s, self.max_attempts = concurrency, lease, deadline_s, max_attempts
        self.renew_s = renew_s or lease.total_seconds() / 3
        self.poll_s = poll_s
        self.progress_at = time.monotonic()
        self.handled = 0
        self._held: dict[UUID, OutboxMessage] = {}  # claimed and not yet settled: the claims renewed
        self._waiting: dict[Family, list[OutboxMessage]] = {}  # claimed, not started
        self._running: dict[asyncio.Task[Outcome], tuple[Family, list[OutboxMessage]]] = {}
        self._finished: list[Outcome] = []
        self._finished_at: float | None = None
        self._settled_since_claim = False
        self._claiming = True

    def in_hand(self) -> list[OutboxMessage]:
        """The messages whose handlers are running now."""
        return [m for _, group in self._running.values() for m in group]

    def finish(self) -> None:
        """Claim nothing more: end once what is in hand is done (a shutdown)."""
        self._claiming = False

    async def give_back(self, why: str) -> None:
        """The pass was found wedged and stopped: say so, and record an attempt for each message it had under
        way (retried with backoff; dead-lettered if it keeps wedging the relay), so their claims end now."""
        stuck = self.in_hand()
        metrics.relay_restarted()
        log.error(
            "outbox relay: %s; %d messages were under way (%s)",
            why,
            len(stuck),
            ", ".join(sorted({f"{m.topic} {m.key}" for m in stuck})) or "none",
        )
        try:
            error = f"its handler did not end: {why}"
            await settle(self.db, [Outcome(m, "retry", error) for m in stuck], self.backoff_s, self.max_attempts)
            await release(self.db, [m.id for group in self._waiting.values() for m in group])
        except Exception:  # their claims run out within a lease instead
            log.exception("could not give the stuck messages back to the outbox")

    async def run(self, budget_s: float | None = None) -> int:
        """Handle what is due (claiming no more once `budget_s` has passed); returns how many were handled.

        Outcomes are recorded in the transaction that claims the next messages whenever both are due: one
        commit per exchange with the outbox, not one to settle and another to claim.
        """
        started = time.monotonic()
        claiming, last_claim, full = True, float("-inf"), True
        try:
            async with kept_alive(self._renew, self.renew_s, "outbox messages in hand"):
                while True:
                    now = time.monotonic()
                    if not self._running:
                        self.progress_at = now  # a pump with nothing under way is not wedged, whatever is due
                    settling = bool(self._finished) and (
                        not self._running
                        or len(self._finished) >= self.concurrency
                        or (self._finished_at is not None and now - self._finished_at >= self.poll_s)
                    )
                    # Claim when the last claim filled up, when it is time to look again, and always before
                    # ending: what was handled since may have queued more (a campaign's next batch).
                    idle = not self._running and not self._waiting
                    due = full or now - last_claim >= self.poll_s or (idle and (self._settled_since_claim or settling))
                    taking = claiming and self._claiming and due and self._wants_more(settling)
                    if settling or taking:
                        got, room = await self._exchange(settling, taking)
                        if taking:
                            last_claim, full = time.monotonic(), len(got) == room
                            self._take(got)
                            if budget_s is not None and last_claim - started >= budget_s:
                                claiming = False
                    self._start()
                    if not self._running:
                        if self._finished:
                            continue
                        stopped = not claiming or not self._claiming
                        if not self._waiting and (stopped or not (full or self._settled_since_claim)):
                            return self.handled
                        continue
                    done, _ = await asyncio.wait(self._running, timeout=self.poll_s, return_when="FIRST_COMPLETED")
                    for task in done:
                        self._finish(task)
        finally:
            await self._abandon()

    def _wants_more(self, settling: bool = False) -> bool:
        waiting = sum(len(group) for group in self._waiting.values())
        held = len(self._held) - (len(self._finished) if settling else 0)
        return waiting < self.concurrency and held < self.batch

    def _take(self, messages: list[OutboxMessage]) -> None:
        for message in messages:
            self._held[message.id] = message
            # Ten quick edits of one order, one handler run: handlers read the current state.
            self._waiting.setdefault(_family(message), []).append(message)

    def _start(self) -> None:
        busy = {family for family, _ in self._running.values()}
        for family in list(self._waiting):
            if len(self._running) >= self.concurrency:
                return
            if family in busy:  # after the run under way: it may have read the state before this change
                continue
            group = self._waiting.pop(family)
            task = asyncio.create_task(handle(group[0], self.handlers, self.deadline_s), name=f"relay:{group[0].topic}")
            self._running[task] = (family, group)
            busy.add(family)

    def _finish(self, task: asyncio.Task[Outcome]) -> None:
        _, group = self._running.pop(task)
        first = task.result()
        self._finished.extend([first, *(Outcome(m, first.result, first.error) for m in group[1:])])
        if self._finished_at is None:
            self._finished_at = time.monotonic()

    async def _exchange(self, settling: bool, taking: bool) -> tuple[list[OutboxMessage], int]:
        """Record what finished (if `settling`) and claim more (if `taking`), in one transaction; returns the
        messages claimed and the room there was for them."""
        outcomes: list[Outcome] = []
        if settling:
            outcomes, self._finished, self._finished_at = self._finished, [], None
        room = self.batch - (len(self._held) - len(outcomes)) if taking else 0
        got = await settle_and_claim(self.db, outcomes, self.backoff_s, self.max_attempts, room, self.lease)
        if outcomes:
            for outcome in outcomes:
                self._held.pop(outcome.message.id, None)
            self.handled += len(outcomes)
            self.progress_at = time.monotonic()
        if taking:
            self._settled_since_claim = False
        elif outcomes:
            self._settled_since_claim = True
        return got, room

    async def _renew(self) -> None:
        await renew(self.db, list(self._held), self.lease)

    async def _abandon(self) -> None:
        """Stopped early (cancelled, or the database failed): handlers still running are cancelled; their
        messages keep their claim until the lease runs out, then another pass takes them."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if tasks:  # a handler that ignores its cancellation is left behind, not waited for
            await asyncio.wait(tasks, timeout=GIVE_UP_S)


async def drain(
    db: async_sessionmaker[AsyncSession],
    handlers: Mapping[str, Handler],
    batch: int = 50,
    backoff_s: float = BACKOFF_BASE_S,
    concurrency: int = 8,
    lease: datetime.timedelta = LEASE,
    budget_s: float | None = None,
    **options: float,
) -> int:
    """Run every message due now (claiming no more after `budget_s`); returns how many were handled.

    `options` are the Pump's: renew_s, deadline_s, max_attempts, poll_s.
    """
    pump = Pump(db, handlers, batch=batch, backoff_s=backoff_s, concurrency=concurrency, lease=lease, **options)  # type: ignore[arg-type]
    return await pump.run(budget_s)


async def bounded_pass(pump: Pump, budget_s: float, limit_s: float) -> int:
    """A pass that must end within `limit_s` (the Celery engine's watchdog): claiming stops after `budget_s`
    and every handler has its deadline, so a pass still running at `limit_s` is wedged. It is cut off and its
    messages given back; returns how many were handled."""
    try:
        async with asyncio.timeout(limit_s):
            return await pump.run(budget_s)
    except TimeoutError:
        await pump.give_back(f"the pass was still running after {limit_s:g} s and was cut off")
        return pump.handled
