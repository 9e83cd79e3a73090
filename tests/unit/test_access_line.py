"""The access line and the latency histogram, per request: what each costs is counted here, never timed.

bench/floor_bench.py's `stack` probe showed the access line at about 20% of the request layer's CPU (py-spy): its
format, each argument and the result redacted one by one, a histogram series looked up per request, and
`json.dumps` building an encoder per line. The line itself does not change.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
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


def test_a_served_process_logs_a_line_without_looking_up_its_caller(tmp_path: Path) -> None:
    """configure_logging (the served process's set-up) turns off the record fields no format shows: no frame walk
    to find the caller, no thread or process look-up, per line. In a fresh interpreter: it changes globals."""
    code = """if True:
        import logging, os, sys, threading
        from orders_service.ops.logs import configure_logging
        configure_logging("json", "INFO")
        logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))
        seen = []
        for owner, name in ((logging, "currentframe"), (threading, "current_thread"), (os, "getpid")):
            real = getattr(owner, name)
            setattr(owner, name, lambda *a, real=real, name=name: seen.append(name) or real(*a))
        logging.getLogger("orders_service.access").info("GET /health 200 0.1 ms")
        print(len(seen), seen)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    env["ORDERS_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "0", done.stdout
