"""A small client for tests: the HTTP API with a staff key, and builders for valid payloads."""

from __future__ import annotations

import random
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

HCMC, BEN_THANH = 79, 26743
HANOI, HOAN_KIEM = 1, 70


def random_mobile() -> str:
    return "09" + "".join(random.choice("0123456789") for _ in range(8))


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
    def __init__(self, client: AsyncTestClient[Any], staff_key: str, admin_key: str) -> None:
        self.client, self.staff_key, self.admin_key = client, staff_key, admin_key

    def headers(self, key: str | None = "staff", **extra: str) -> dict[str, str]:
        chosen = {"staff": self.staff_key, "admin": self.admin_key}.get(key or "", key)
        headers = {"Authorization": f"Bearer {chosen}"} if chosen else {}
        headers.update(extra)
        return headers

    async def request(
        self, method: str, path: str, *, key: str | None = "staff", headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=self.headers(key, **(headers or {})), **kw)

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
