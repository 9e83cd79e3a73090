"""A small client for tests: the HTTP API with a staff key, and builders for valid payloads."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

HCMC, BEN_THANH = 79, 26743
HANOI, HOAN_KIEM = 1, 70


MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "070", "079", "077", "083", "085", "032", "038"]


def random_mobile() -> str:
    return random.choice(MOBILE_PREFIXES) + "".join(random.choice("0123456789") for _ in range(7))


def order_payload(**overrides: Any) -> dict[str, Any]:
    phone = random_mobile()
    payload: dict[str, Any] = {
        "customer": {"full_name": "Nguyễn Thị Lan", "phones": [phone]},
        "channel": "website",
        "recipient": {
            "name": "Nguyễn Thị Lan",
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": BEN_THANH, "province_code": HCMC},
        },
        "lines": [
            {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
        ],
        "shipping": {"fee": 30000, "payer": "customer"},
    }
    if "customer_id" in overrides:
        del payload["customer"]
    payload.update(overrides)
    return payload


class Api:
    def __init__(self, client: httpx.AsyncClient, staff_key: str, admin_key: str, app: Litestar) -> None:
        self.client, self.staff_key, self.admin_key, self.app = client, staff_key, admin_key, app

    @property
    def sandbox(self) -> Any:
        """The embedded sandbox courier's server object, for tests that break it on purpose."""
        return self.app.state.runtime.sandbox

    @contextlib.asynccontextmanager
    async def unchecked(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client that sends any header, even one no HTTP client puts on a socket.

        h11 refuses a header value with surrounding whitespace, and servers strip it off the wire: only a call
        handed to the app object shows what the app does with one. The test client already is such a call.
        """
        if isinstance(self.client, AsyncTestClient):
            yield self.client
            return
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver") as c:
            yield c

    def headers(self, key: str | None = "staff", **extra: str) -> dict[str, str]:
        chosen = {"staff": self.staff_key, "admin": self.admin_key}.get(key or "", key)
        headers = {"Authorization": f"Bearer {chosen}"} if chosen else {}
        headers.update(extra)
        return headers

    async def request(
        self, method: str, path: str, *, key: str | None = "staff", headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = self.headers(key, **(headers or {}))
        odd = any(v != v.strip() for v in headers.values())
        async with self.unchecked() if odd else contextlib.nullcontext(self.client) as client:
            return await client.request(method, path, headers=headers, **kw)

    async def create_order(self, **overrides: Any) -> dict[str, Any]:
        response = await self.request("POST", "/api/orders", json=order_payload(**overrides))
        assert response.status_code == 201, response.text
        return response.json()

    async def amend(
        self, order: dict[str, Any], *operations: dict[str, Any], version: int | None = None, dry_run: bool = False
    ) -> httpx.Response:
        etag = f'"{order["version"] if version is None else version}"'
        params = {"dry_run": "true"} if dry_run else {}
        return await self.request(
            "POST",
            f"/api/orders/{order['id']}/amendments",
            json={"operations": list(operations)},
            headers={"If-Match": etag},
            params=params,
        )


# A round of `eventually` (a check and the pause after it) that took longer counts as this long: the test process
# stood still (17 s, twice in CI, every thread of it, the relay's too), which is no time the relay had.
STALL_S = 1.0


async def eventually(check: Any, within_s: float = 15.0, interval: float = 0.05) -> Any:
    """Poll `check()` (async) until it returns something truthy: the relay works in the background.

    `within_s` is the time the relay had, not the wall clock: a round longer than STALL_S counts as STALL_S. It gives
    up only after a check that began once that time was spent: a check that began in time and then stalled saw the
    state from before the stall, so it is asked once more.
    """
    loop = asyncio.get_running_loop()
    spent = 0.0
    while True:
        began = loop.time()
        result = await check()
        if result:
            return result
        if spent > within_s:
            raise AssertionError(f"not reached within {within_s} s; last: {result!r}")
        await asyncio.sleep(interval)
        spent += min(loop.time() - began, STALL_S)


class Shipping:
    """Ship orders and drive the sandbox courier, over HTTP like a shop's tools and a test driver would."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.api.request("GET", f"/api/orders/{order_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def ship(self, order: dict[str, Any], within_s: float = 15.0) -> dict[str, Any]:
        path = f"/api/orders/{order['id']}"
        confirmed = await self.api.request("POST", f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'})
        assert confirmed.status_code == 200, confirmed.text
        shipped = await self.api.request(
            "POST", f"{path}/ship", headers={"If-Match": f'"{confirmed.json()["version"]}"'}
        )
        assert shipped.status_code == 200, shipped.text
        return await self.synced(order["id"], within_s)

    async def synced(self, order_id: str, within_s: float = 15.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            order = await self.order(order_id)
            shipment = order["shipment"]
            done = shipment and shipment["sync_state"] == "synced" and shipment["synced_version"] == order["version"]
            return order if done else None

        return await eventually(check, within_s)

    async def parcel(self, tracking_code: str) -> dict[str, Any]:
        # The test driver's views take a staff API key, as a courier's would take its own login.
        response = await self.api.client.get(f"/sandbox-courier/shipments/{tracking_code}", headers=self.api.headers())
        assert response.status_code == 200, response.text
        return response.json()

    async def courier_event(self, tracking_code: str, status: str, **extra: Any) -> dict[str, Any]:
        response = await self.api.client.post(
            f"/sandbox-courier/shipments/{tracking_code}/events",
            json={"status": status, **extra},
            headers=self.api.headers(),
        )
        assert response.status_code == 200, response.text
        assert response.json()["delivered"], response.json()
        return response.json()
