"""The scale engine: Celery workers run the relay's handlers, beat runs the schedules.

`orders-service worker` and `orders-service beat` start them. The outbox in the database is the queue; a
task only says "look now" (beat every second, the API after a commit) and carries nothing, so losing one to a
Redis restart or a killed worker loses no message. The worker that takes it claims due messages and runs their
handlers itself, renewing its claim while it works: if it dies, its messages are due again within one lease.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging, task_postrun, task_prerun, worker_process_shutdown

from orders_service.infra.runtime import Runtime, build_runtime
from orders_service.infra.settings import Settings
from orders_service.loyalty.points import expire_points
from orders_service.loyalty.tier_services import review_tiers
from orders_service.messaging.birthdays import queue_birthdays
from orders_service.ops import context
from orders_service.ops.logs import configure_logging
from orders_service.relay import core
from orders_service.shipping.reconcile import reconcile_shipments

T = TypeVar("T")
settings = Settings.from_env()
DISPATCH_EXPIRES_S = 2.0
# Stop claiming new messages after this long; the next tick goes on. A dispatch then ends within its handlers'
# deadline (settings.relay_deadline_s), and it is cut off a little after that if it does not (a wedged pass,
# as the embedded engine's watchdog would see it); Celery's own time limits come after, as a last resort.
BUDGET_S = 30.0
PASS_LIMIT_S = BUDGET_S + settings.relay_deadline_s + 10.0
SOFT_LIMIT_S = PASS_LIMIT_S + 10.0
HARD_LIMIT_S = SOFT_LIMIT_S + 10.0
VISIBILITY_TIMEOUT_S = max(600.0, 2 * HARD_LIMIT_S)

app = Celery("orders_service", broker=settings.broker_url)
app.conf.update(
    # Redelivered if a worker dies mid-task (the handlers are idempotent), one task at a time per process.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # Below the broker's visibility timeout, so a slow task is never handed to a second worker while it runs.
    task_time_limit=HARD_LIMIT_S,
    task_soft_time_limit=SOFT_LIMIT_S,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    task_default_queue=settings.celery_queue,
    worker_hijack_root_logger=False,
    beat_schedule={
        # A tick not taken within 2 s is dropped: the workers were busy draining, and the next tick comes anyway.
        "outbox-dispatch": {"task": "outbox.dispatch", "schedule": 1.0, "options": {"expires": DISPATCH_EXPIRES_S}},
        "loyalty-expire": {"task": "loyalty.expire", "schedule": crontab(hour=2, minute=0)},  # UTC: 9:00 in Vietnam
        "loyalty-review": {"task": "loyalty.review_tiers", "schedule": crontab(hour=2, minute=10)},
        # Hourly, not daily: a birthday is found on her local date whatever hour beat started; each is sent once.
        "notifications-birthdays": {"task": "notifications.birthdays", "schedule": crontab(minute=5)},
    },
)


def reconcile_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's entry for reconciliation, every ORDERS_RECONCILE_S; none when it is 0 (off)."""
    if settings.reconcile_s <= 0:
        return {}
    return {"couriers-reconcile": {"task": "couriers.reconcile", "schedule": settings.reconcile_s}}


app.conf.beat_schedule.update(reconcile_schedule(settings))


class _Process:
    """One event loop and one runtime per worker process (created after the fork, on first use)."""

    loop: asyncio.AbstractEventLoop | None = None
    runtime: Runtime | None = None

    @classmethod
    def run(cls, work: Coroutine[Any, Any, T]) -> T:
        if cls.loop is None:
            cls.loop = asyncio.new_event_loop()
        return cls.loop.run_until_complete(work)

    @classmethod
    def get(cls) -> Runtime:
        if cls.runtime is None:
            # A worker reaches the sandbox courier over HTTP: its state lives in the API process.
            cls.runtime = build_runtime(settings, embed_sandbox=False)
        return cls.runtime


@setup_logging.connect
def _logging(loglevel: str | int | None = None, **_: Any) -> None:
    """Our handler (JSON or text, redacted) instead of Celery's; connecting this signal tells Celery so."""
    level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else (loglevel or settings.log_level)
    configure_logging(settings.log_format, str(level))


@task_prerun.connect
def _task_started(task_id: str | None = None, **_: Any) -> None:
    context.task_id.set(task_id)  # the task's event loop copies this context: its log lines name the task


@task_postrun.connect
def _task_ended(**_: Any) -> None:
    context.task_id.set(None)
    context.order_id.set(None)


@worker_process_shutdown.connect
def _close(pid: int | None = None, **_: Any) -> None:
    if _Process.runtime is not None:
        _Process.run(_Process.runtime.aclose())
    if settings.multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())  # its live gauges stop counting; counters stay


@app.task(name="outbox.dispatch")
def dispatch() -> int:
    """Run the messages due now in this worker process. Workers run it side by side: each claims its own
    messages (SKIP LOCKED), and handles several orders at once (ORDERS_RELAY_CONCURRENCY) while one waits for a
    courier: each has the handlers' deadline, and each courier call its timeout."""
    runtime = _Process.get()
    pump = core.Pump(
        runtime.db,
        runtime.handlers,
        backoff_s=settings.relay_backoff_s,
        concurrency=settings.relay_concurrency,
        lease=datetime.timedelta(seconds=settings.relay_lease_s),
        renew_s=settings.lease_renew_s,
        deadline_s=settings.relay_deadline_s,
        max_attempts=settings.relay_max_attempts,
    )
    return _Process.run(core.bounded_pass(pump, BUDGET_S, PASS_LIMIT_S))


@app.task(name="couriers.reconcile")
def reconcile() -> int:
    """Read every parcel not yet final from its courier and apply it like a webhook (one may never have come)."""
    runtime = _Process.get()
    return _Process.run(reconcile_shipments(runtime.db, runtime.couriers, budget_s=BUDGET_S * 2))


@app.task(name="loyalty.expire")
def expire() -> int:
    """Write off the earned points past their date; beat calls this daily, and a second run writes nothing."""
    return _Process.run(expire_points(_Process.get().db))


@app.task(name="loyalty.review_tiers")
def review() -> int:
    """Customers whose tier review date passed keep or lose their tier (downgrade rule `review`)."""
    return _Process.run(review_tiers(_Process.get().db))


@app.task(name="notifications.birthdays")
def birthdays() -> int:
    """Queue today's birthday messages (local date); once per customer per year, however often it runs."""
    return _Process.run(queue_birthdays(_Process.get().db))
