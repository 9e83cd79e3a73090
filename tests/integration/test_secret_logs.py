"""No secret reaches a log line of the served process, over every route of the app (one engine: SQLite).

The real `orders-service serve --access-log` at debug level: uvicorn's access log, our access line, error logs,
everything it writes to stderr. Every route of the app's route table (and of the sandbox courier mounted in it)
is requested with secrets in its query string, its headers, its body and its token path segments; GHN and GHTK
webhooks also come with their real, configured secrets. Every planted secret starts with the same marker, so
one search finds any of them.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.routes import ASGIRoute, HTTPRoute

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.integration.processes import BIN, Processes, clean_env, free_port, wait_for

MARK = "S3CR3T"
QUERY = ("token", "hash", "key", "secret", "signature", "sig", "password", "api_key", "access_token", "auth")


def planted(what: str = "") -> str:
    return f"{MARK}{what}{secrets.token_hex(6)}"


def secret_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {planted()}",
        "Proxy-Authorization": f"Basic {planted()}",
        "Cookie": f"session={planted()}; csrftoken={planted()}",
        "X-API-Key": planted(),
        "X-Auth-Token": planted(),
        "Token": planted(),
        "X-CSRFToken": planted(),
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": f"v1,{planted()}",
        "X-Webhook-Signature": planted(),
    }


def secret_query() -> dict[str, str]:
    return {name: planted() for name in QUERY} | {"lang": "en"}


def _filled(path: str) -> str:
    """The route's path with its parameters filled: a planted secret where the parameter is a token."""

    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if name == "token":
            return planted("link")
        return {"uuid": str(uuid.uuid4()), "int": "79", "path": "app.css"}.get(kind, "ghn")

    return re.sub(r"\{(\w+):(\w+)\}", value, path)


def requests_over_routes(app: Litestar) -> Iterator[tuple[str, str]]:
    """(method, path) for every method of every route, the mounted sandbox courier's routes included."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in sorted(route.methods):
                yield method, _filled(route.path)
        elif isinstance(route, ASGIRoute):  # a mount: its own app's routes under its path
            mounted: Any = app.state.runtime.sandbox.app
            for inner in mounted.routes:
                for method in sorted(getattr(inner, "methods", {"GET"})):
                    yield method, route.path + _filled(inner.path)


def test_no_secret_reaches_the_served_logs_over_every_route(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ghn, ghtk = planted("ghn-webhook"), planted("ghtk-webhook")
    dead = f"http://127.0.0.1:{free_port()}"  # no courier call is made: nothing is shipped
    env = clean_env(
        ORDERS_DATA_DIR=str(tmp_path / "data"),
        ORDERS_PORT=str(port),
        ORDERS_PUBLIC_BASE_URL=base,
        ORDERS_LOG_LEVEL="debug",
        ORDERS_LOG_FORMAT="text",
        ORDERS_SECRET_KEY=planted("secret-key-") * 2,
        ORDERS_SANDBOX_TOKEN=planted("sandbox-token"),
        ORDERS_SANDBOX_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwc5Nd7T0oXVQ=",
        ORDERS_GHN_TOKEN=planted("ghn-token"),
        ORDERS_GHN_SHOP_ID="885",
        ORDERS_GHN_WEBHOOK_SECRET=ghn,
        ORDERS_GHN_BASE_URL=dead,
        ORDERS_GHTK_TOKEN=planted("ghtk-token"),
        ORDERS_GHTK_WEBHOOK_SECRET=ghtk,
        ORDERS_GHTK_BASE_URL=dead,
    )
    made = subprocess.run(
        [str(BIN / "orders-service"), "keys", "create", "--name", "logs", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    routes = list(requests_over_routes(create_app(Settings.from_env({**env, "ORDERS_DATA_DIR": str(tmp_path / "x")}))))
    assert len(routes) > 100 and any(path.startswith("/sandbox-courier/shipments") for _, path in routes)
    processes = Processes(env, tmp_path)
    processes.start("serve", "serve", "--access-log")
    statuses: set[int] = set()
    try:
        wait_for(lambda: httpx.get(f"{base}/health").status_code == 200, 60, "the server")
        with httpx.Client(base_url=base, timeout=30) as http:
            for method, path in routes:
                body = {"password": planted(), "token": planted()} if method in ("POST", "PUT", "PATCH") else None
                for headers in (secret_headers(), {"Authorization": f"Bearer {key}", "X-CSRFToken": planted()}):
                    answer = http.request(method, path, params=secret_query(), headers=headers, json=body)
                    statuses.add(answer.status_code)
            # The couriers' webhooks with their real secrets, the dashboard's sign-in with a password.
            order = {"OrderCode": "GHN1", "Status": "delivered", "ClientOrderCode": "x", "CODAmount": 1}
            http.post("/webhooks/couriers/ghn", params={"token": ghn}, json=order)
            http.post("/webhooks/couriers/ghtk", params={"hash": ghtk}, data={"label_id": "S1", "status_id": "5"})
            http.post("/dashboard/login", data={"username": "lan", "password": planted()})
    finally:
        processes.stop()
    log = (tmp_path / "serve.log").read_text()
    assert {200, 401, 404} <= statuses, statuses
    assert "/webhooks/couriers/ghn?token=***" in log and "/webhooks/couriers/ghtk?hash=***" in log, log[-3000:]
    assert " 200 OK" in log or " 200 " in log  # uvicorn's access lines are there
    leaks = [line for line in log.splitlines() if MARK in line or key in line or key[4:] in line]
    assert not leaks, "\n".join(leaks[:20])
