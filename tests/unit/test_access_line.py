"""The access line and the latency histogram, per request: what each costs is counted here, never timed.

bench/floor_bench.py's `stack` probe showed the access line at about 20% of the request layer's CPU (py-spy): its
format, each argument and the result redacted one by one, a histogram series looked up per request, and
`json.dumps` building an encoder per line. The line itself does not change.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

from orders_service.infra import redact as redaction
from orders_service.ops import metrics
from orders_service.ops import middleware as ops_middleware
from orders_service.ops.logs import handler_for
from orders_service.ops.middleware import RequestContext, echo_request_id

ORDER = "0193a5b2-7c1d-7e4f-9a8b-3c2d1e0f4a5b"


@get("/api/orders/{order_id:uuid}")
async def show(order_id: FromPath[UUID]) -> dict[str, str]:
    return {"id": str(order_id)}


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """The access logger's JSON lines, through the served process's handler (redaction included)."""
    out = io.StringIO()
    handler = handler_for("json")
    handler.setStream(out)
    access = logging.getLogger("orders_service.access")
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    try:
        yield out
    finally:
        access.removeHandler(handler)
        access.setLevel(level)


def _served() -> TestClient[Any]:
    return TestClient(Litestar([show], middleware=[RequestContext()], before_send=[echo_request_id]))


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_an_access_line_is_redacted_once(lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, redaction, "redact")
    with _served() as client:
        assert client.get(f"/api/orders/{ORDER}?phone=0901234567").status_code == 200
    (line,) = [json.loads(text) for text in lines.getvalue().splitlines()]
    assert line["message"].startswith(f"GET /api/orders/{ORDER}?phone=***567 200 ")
    assert line["message"].endswith(" ms") and line["order_id"] == ORDER
    assert len(calls) == 1  # the line; not its format, the method, the path and the line again


def test_the_latency_series_is_looked_up_once_per_route_and_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops_middleware, "_SERIES", {}, raising=False)  # none cached by earlier tests
    calls = _counting(monkeypatch, metrics.REQUEST_SECONDS, "labels")
    with _served() as client:
        for _ in range(3):
            assert client.get(f"/api/orders/{ORDER}").status_code == 200
    assert len(calls) == 1


def test_a_json_line_is_encoded_without_json_dumps(lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, json, "dumps")
    with _served() as client:
        for _ in range(2):
            assert client.get(f"/api/orders/{ORDER}", headers={"X-Request-ID": "line-1"}).status_code == 200
    assert len(calls) == 0
    assert len(lines.getvalue().splitlines()) == 2
    assert all(json.loads(text)["logger"] == "orders_service.access" for text in lines.getvalue().splitlines())
