"""Prometheus metrics: request latency by route template, amendments, courier sync and webhook outcomes,
and the outbox's depth and age read from the database at each scrape.

Several processes (uvicorn workers, Celery's prefork children) count into one view when
`PROMETHEUS_MULTIPROC_DIR` names an empty folder, writable by all of them and set before they start
(prometheus_client reads it at import): the scrape then merges every process's files.
"""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as mp
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.db.models import OutboxMessage

CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUEST_SECONDS = Histogram(
    "orders_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (never the raw path: it may hold a token)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AMENDMENTS = Counter(
    "orders_amendments_total", "Amendment requests, by who asked and what came of them", ["actor_kind", "outcome"]
)
COURIER_SYNC = Counter("orders_courier_sync_total", "Courier sync runs, by courier and outcome", ["courier", "outcome"])
WEBHOOKS = Counter(
    "orders_webhook_events_total", "Courier webhook events, by courier and outcome", ["courier", "outcome"]
)
DEAD_LETTERED = Counter(
    "orders_outbox_dead_lettered_total",
    "Outbox messages given up on (a permanent error, or too many attempts), by topic family",
    ["family"],
)
RELAY_RESTARTS = Counter(
    "orders_relay_restarts_total",
    "Relay passes the watchdog (or a Celery task's time limit) found wedged and restarted",
)


def error_outcome(error: Exception) -> str:
    """`OrderNotAmendable` -> `order_not_amendable`: a label from the domain error's class (a fixed set)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def amendment(actor_kind: str, outcome: str) -> None:
    AMENDMENTS.labels(actor_kind=actor_kind, outcome=outcome).inc()


def courier_sync(courier: str, outcome: str) -> None:
    COURIER_SYNC.labels(courier=courier, outcome=outcome).inc()


def webhook(courier: str, outcome: str, count: int = 1) -> None:
    WEBHOOKS.labels(courier=courier, outcome=outcome).inc(count)


def dead_lettered(topic: str) -> None:
    DEAD_LETTERED.labels(family=topic.split(".", 1)[0]).inc()


def relay_restarted() -> None:
    RELAY_RESTARTS.inc()


class _Snapshot(Collector):
    """Metrics computed for one scrape, handed over already made."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


_READABLE = "1 when the outbox could be read for this scrape"


async def outbox_metrics(db: async_sessionmaker[AsyncSession], now: datetime.datetime) -> list[Metric]:
    """Pending messages and the age of the oldest (one aggregate over the pending index), and the dead letters.

    A database that does not answer within a second leaves them out (and says so): the scrape still works.
    """
    query = select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.processed_at.is_(None))
    dead_query = select(func.count()).where(OutboxMessage.dead_at.is_not(None))
    try:
        async with asyncio.timeout(1.0), db() as session:
            depth, oldest = (await session.execute(query)).one()
            dead = await session.scalar(dead_query)
    except Exception:  # the database is down: /ready says why; metrics must not fail with it
        return [GaugeMetricFamily("orders_outbox_readable", _READABLE, value=0)]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=datetime.UTC)  # SQLite hands back naive UTC
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return [
        GaugeMetricFamily("orders_outbox_readable", _READABLE, value=1),
        GaugeMetricFamily("orders_outbox_depth", "Outbox messages not yet processed", value=depth),
        GaugeMetricFamily("orders_outbox_oldest_age_seconds", "Age of the oldest unprocessed message", value=age),
        GaugeMetricFamily("orders_outbox_dead_letters", "Dead-lettered messages waiting for staff", value=dead or 0),
    ]


def exposition(extra: list[Metric], multiprocess: bool) -> bytes:
    """This process's metrics (or every process's, in multiprocess mode: settings.multiproc_dir) and `extra`, in
    the text format."""
    if multiprocess:
        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot(extra))
    return generate_latest(registry) + generate_latest(snapshot)
