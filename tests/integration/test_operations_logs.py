"""Logs of a served process: one JSON object per line, with the request's and the order's ids, and no phone.

Runs once, on SQLite, against `orders-service serve` in a subprocess: what is tested is the process's logging
set-up (uvicorn included), which an in-process test client never goes through.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.integration.api import order_payload
from tests.integration.processes import BIN, Processes, clean_env, free_port, wait_for

PHONE = "0901234567"


def test_a_served_process_logs_json_lines_with_ids_and_no_phone(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(ORDERS_DATA_DIR=str(tmp_path / "data"), ORDERS_PORT=str(port), ORDERS_LOG_FORMAT="json")
    made = subprocess.run(
        [str(BIN / "orders-service"), "keys", "create", "--name", "logs", "--role", "staff"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    headers = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    processes = Processes(env, tmp_path)
    processes.start("serve", "serve")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=headers) as http:
            wait_for(lambda: http.get("/health").status_code == 200, 60, "the server")
            payload = order_payload()
            payload["customer"]["phones"] = payload["recipient"]["phones"] = [PHONE]
            created = http.post("/api/orders", json=payload, headers={"X-Request-ID": "log-test-1"})
            assert created.status_code == 201, created.text
            order = created.json()
            amended = http.post(
                f"/api/orders/{order['id']}/amendments",
                json={"operations": [{"op": "set_recipient", "phones": [PHONE, "0912 345 678"]}]},
                headers={"If-Match": f'"{order["version"]}"', "X-Request-ID": "log-test-2"},
            )
            assert amended.status_code == 200, amended.text
            assert amended.headers["x-request-id"] == "log-test-2"
            found = http.get("/api/orders", params={"phone": PHONE}, headers={"X-Request-ID": "log-test-3"})
            assert found.status_code == 200
            # Answered by an exception handler: the line has the status the client got, not the exception's.
            login = http.get("/dashboard/orders", headers={"X-Request-ID": "log-test-4"}, follow_redirects=False)
            assert login.status_code == 303 and login.headers["x-request-id"] == "log-test-4"
            refused = http.get("/api/orders", headers={"Authorization": "", "X-Request-ID": "log-test-5"})
            assert refused.status_code == 401
    finally:
        processes.stop()
    text = (tmp_path / "serve.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # fails on any non-JSON line
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's own lines go through us too"
    by_request = {line.get("request_id"): line for line in lines if line["logger"] == "orders_service.access"}
    assert by_request["log-test-1"]["message"].startswith("POST /api/orders 201")
    assert by_request["log-test-2"]["order_id"] == order["id"]
    assert "phone=***567" in by_request["log-test-3"]["message"]
    assert by_request["log-test-4"]["message"].startswith("GET /dashboard/orders 303")
    assert by_request["log-test-5"]["message"].startswith("GET /api/orders 401")
    for secret in (PHONE, PHONE[1:], "912345678"):
        assert secret not in text
