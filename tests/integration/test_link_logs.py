"""No edit-link token reaches a log line of the served process, access log included (one engine: SQLite).

The check is on the real `orders-service serve` command and its stderr, where uvicorn and the app write.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.integration.api import order_payload
from tests.integration.processes import BIN, Processes, clean_env, free_port, wait_for


def test_tokens_never_appear_in_the_served_logs(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(ORDERS_DATA_DIR=str(tmp_path / "data"), ORDERS_PORT=str(port), ORDERS_PUBLIC_BASE_URL=base)
    made = subprocess.run(
        [str(BIN / "orders-service"), "keys", "create", "--name", "logs", "--role", "staff"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    staff = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    processes = Processes(env, tmp_path)
    processes.start("serve", "serve", "--access-log")
    try:
        wait_for(lambda: httpx.get(f"{base}/health").status_code == 200, 60, "the server")
        with httpx.Client(base_url=base, timeout=10) as http:
            order = http.post("/api/orders", json=order_payload(), headers=staff).json()
            url = http.post(f"/api/orders/{order['id']}/edit-link", headers=staff).json()["url"]
            token = url.rsplit("/o/", 1)[1]
            assert http.get(f"/o/{token}").status_code == 200
            assert http.get(f"/api/public/orders/{token}?lang=en").status_code == 200
            assert http.get(f"/o/{token[:-2]}xy").status_code == 404
    finally:
        processes.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "GET /o/*** HTTP/1.1" in log and "/api/public/orders/***?lang=en HTTP/1.1" in log, log[-2000:]
    assert token not in log and token[:-2] not in log
