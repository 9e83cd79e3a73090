"""Per request: its id (kept from `X-Request-ID` or made, and echoed), the order it concerns, its latency
by route template, and one access line.

Litestar runs middleware per route, after routing, so the route template and path parameters are known
here; `before_send` runs for every response, errors included, so the id header is never missing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from orders_service.ops import context, metrics

access = logging.getLogger("orders_service.access")


class RequestContext(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_token = context.request_id.set(context.request_id_of(scope))
        order = scope.get("path_params", {}).get("order_id")
        order_token = context.order_id.set(str(order) if order is not None else None)
        route = str(scope.get("path_template") or "unmatched")
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, sending)
        except Exception:
            # An exception handler outside this middleware answers, maybe with another status than the
            # exception's (the dashboard turns a 401 into a redirect to its login page): the line is written
            # when that answer starts (`echo_request_id`), with the status the client gets.
            scope.setdefault("state", {})[_PENDING] = (route, started)
            raise
        else:
            _record(scope, route, status, started)
        finally:
            context.order_id.reset(order_token)
            context.request_id.reset(request_token)


_PENDING = "orders_service.access"  # scope state: (route, started) of a request whose answer is not sent yet


# The latency histogram's series by (method, route template, status): `labels()` looks a series up under a lock
# with its label values turned to strings each time; the same few series serve every request.
_SERIES: dict[tuple[str, str, int], Any] = {}


def _record(scope: Scope, route: str, status: int, started: float) -> None:
    """The request's latency by route template and status, and its access line."""
    elapsed = time.perf_counter() - started
    method = str(scope.get("method", ""))
    series = _SERIES.get((method, route, status))
    if series is None:
        series = _SERIES[method, route, status] = metrics.REQUEST_SECONDS.labels(method, route, str(status))
    series.observe(elapsed)
    if not access.isEnabledFor(logging.INFO):
        return
    # The path as sent, not the template: operators look for a request. The line is one string without arguments,
    # so the log filter redacts it once (infra/redact.py), not its format, each argument and then the result.
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope.get("path", "") + (f"?{query}" if query else "")
    access.info(f"{method} {path} {status} {elapsed * 1000:.1f} ms")


async def echo_request_id(message: Message, scope: Scope) -> None:
    """`before_send`: every response carries the request's id."""
    if message["type"] == "http.response.start" and scope["type"] == "http":
        headers = MutableScopeHeaders.from_message(message)
        headers["X-Request-ID"] = context.request_id_of(scope)
        pending = scope.get("state", {}).pop(_PENDING, None)
        if pending is not None:  # an exception's answer: its access line, with the request's and order's ids
            route, started = pending
            order = scope.get("path_params", {}).get("order_id")
            request_token = context.request_id.set(context.request_id_of(scope))
            order_token = context.order_id.set(str(order) if order is not None else None)
            try:
                _record(scope, route, message["status"], started)
            finally:
                context.order_id.reset(order_token)
                context.request_id.reset(request_token)
