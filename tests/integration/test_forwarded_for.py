"""X-Forwarded-For is believed from ORDERS_TRUSTED_PROXIES only, on the real `orders-service serve` (uvicorn).

uvicorn's own default trusts the header from 127.0.0.1, so a client on the same host (or behind a proxy that
passes the header on) could name a new address for every link guess and never meet the per-client limit.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.integration.processes import Processes, clean_env, free_port, wait_for

GUESSES, CLIENT_LIMIT = 40, 20


def guesses(trusted: str | None, folder: Path) -> list[int]:
    """Status codes of GUESSES link guesses from 127.0.0.1, each naming another client in X-Forwarded-For."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        ORDERS_DATA_DIR=str(folder / "data"),
        ORDERS_PORT=str(port),
        ORDERS_PUBLIC_BASE_URL=base,
        ORDERS_LINK_CLIENT_LIMIT=str(CLIENT_LIMIT),
        ORDERS_LOG_LEVEL="warning",
        **({"ORDERS_TRUSTED_PROXIES": trusted} if trusted is not None else {}),
    )
    processes = Processes(env, folder)
    processes.start("serve", "serve")
    try:
        wait_for(lambda: httpx.get(f"{base}/health").status_code == 200, 60, "the server")
        with httpx.Client(base_url=base, timeout=10) as http:
            return [
                http.get(
                    f"/api/public/orders/{secrets.token_urlsafe(32)}",
                    headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
                ).status_code
                for n in range(GUESSES)
            ]
    finally:
        processes.stop()


def test_a_rotating_forwarded_for_does_not_escape_the_client_limit(tmp_path: Path) -> None:
    answers = guesses(None, tmp_path)
    assert answers == [404] * CLIENT_LIMIT + [429] * (GUESSES - CLIENT_LIMIT), answers


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path: Path) -> None:
    assert guesses("127.0.0.0/8, 10.0.0.0/8", tmp_path) == [404] * GUESSES  # forty clients, one guess each
