"""HTTP: liveness, readiness and Prometheus metrics. Key-free, for probes and scrapers: firewall /metrics."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, get

from orders_service.infra.deps import sessionmaker_of
from orders_service.infra.problems import TYPE_BASE, FieldError, Problem, problem_response
from orders_service.infra.settings import Settings
from orders_service.ops import metrics, probes


class Health(msgspec.Struct):
    status: str


class Ready(msgspec.Struct):
    status: str
    checks: list[str]


@get("/health", tags=["Operations"], summary="Liveness: the process answers", security=[])
async def health() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    tags=["Operations"],
    summary="Readiness: the database answers, and the broker when Celery runs the relay; else 503 naming what is down",
    security=[],
)
async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
    settings: Settings = request.app.state.settings
    checks = {"database": await probes.check_database(sessionmaker_of(request))}
    if settings.relay == "celery":
        checks["broker"] = await probes.check_broker(settings.broker_url)
    down = [FieldError(field=name, message=reason) for name, reason in checks.items() if reason is not None]
    if down:
        detail = "; ".join(f"{d.field} is down: {d.message}" for d in down)
        problem = Problem(type=TYPE_BASE + "not-ready", title="Not ready", status=503, detail=detail, errors=down)
        response = problem_response(problem)
        response.headers["Retry-After"] = "5"
        return response
    return Response(Ready(status="ready", checks=list(checks)))


@get(
    "/metrics",
    tags=["Operations"],
    summary="Prometheus metrics (text format). No key: keep it behind the firewall",
    security=[],
    media_type=metrics.CONTENT_TYPE,
)
async def prometheus_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    outbox = await metrics.outbox_metrics(sessionmaker_of(request), datetime.datetime.now(datetime.UTC))
    return Response(metrics.exposition(outbox, settings.multiproc_dir is not None), media_type=metrics.CONTENT_TYPE)
