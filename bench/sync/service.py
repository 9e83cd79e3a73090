"""The service through HTTP: orders, shipping, amendments, the sandbox courier."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from benchlib.load import SETUP_ATTEMPTS, SETUP_CONCURRENCY, order_payload
from benchlib.servers import (
    REQUEST_TIMEOUT,
)

from couriers.base import Address, Item, Parcel
from couriers.sandbox.adapter import _parcel_body

SANDBOX = "/sandbox-courier"


# ---------------------------------------------------------------------------------------------------------------
# The service through HTTP: orders, shipping, amendments, the sandbox courier.
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Amendment:
    order: BenchOrder
    name: str
    intended: float  # perf_counter when the open-loop schedule meant to send it
    sent: float = 0.0  # perf_counter
    responded: float = 0.0  # perf_counter
    responded_wall: float = 0.0  # time.time(), compared with the courier's updated_at
    version: int = 0
    lag_s: float | None = None  # courier holds this version (or a later one) - 200 response


@dataclass
class BenchOrder:
    id: UUID
    code: str
    version: int
    shipped_wall: float = 0.0  # time.time() of the ship response
    tracking: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    versions_by_name: dict[str, int] = field(default_factory=dict)
    pending: list[Amendment] = field(default_factory=list)
    last_name: str | None = None


def etag(response: httpx.Response) -> int:
    return int(response.headers["etag"].strip('"'))


async def _retrying(call: Callable[[], Awaitable[httpx.Response]], expect: int, what: str) -> httpx.Response:
    """Setup requests: retried on 5xx and transport errors (setup is not what is measured)."""
    problem = ""
    for attempt in range(1, SETUP_ATTEMPTS + 1):
        try:
            response = await call()
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == expect:
                return response
            problem = f"HTTP {response.status_code}: {response.text[:300]}"
            if response.status_code < 500:
                break
        await asyncio.sleep(0.2 * attempt)
    raise RuntimeError(f"{what} failed: {problem}")


async def create_confirmed_orders(api: httpx.AsyncClient, phones: list[str]) -> list[BenchOrder]:
    """Create and confirm one order per phone (at most SETUP_CONCURRENCY at a time)."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(phone: str) -> BenchOrder:
        async with gate:
            created = await _retrying(lambda: api.post("/api/orders", json=order_payload(phone)), 201, "create")
            body = created.json()
            order = BenchOrder(UUID(body["id"]), body["code"], etag(created))
            confirmed = await _retrying(
                lambda: api.post(f"/api/orders/{order.id}/confirm", headers={"If-Match": f'"{order.version}"'}),
                200,
                "confirm",
            )
            order.version = etag(confirmed)
            return order

    return list(await asyncio.gather(*(one(phone) for phone in phones)))


class Sandbox:
    """The sandbox courier's HTTP API on the running server (token from $ORDERS_DATA_DIR/secrets.json)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        self.client = httpx.AsyncClient(
            base_url=base_url + SANDBOX, headers=self.headers, limits=limits, timeout=REQUEST_TIMEOUT
        )

    async def faults(self) -> dict[str, Any]:
        response = await self.client.get("/_faults")
        response.raise_for_status()
        return dict(response.json())

    async def calls(self) -> Counter[str]:
        return Counter((await self.faults())["calls"])

    async def set_delay(self, delay_ms: int) -> None:
        response = await self.client.post("/_faults", json={"delay_ms": delay_ms})
        response.raise_for_status()

    async def shipment(self, tracking: str) -> dict[str, Any]:
        response = await self.client.get(f"/shipments/{tracking}")
        response.raise_for_status()
        return dict(response.json())

    async def aclose(self) -> None:
        await self.client.aclose()


def create_body(view: dict[str, Any], client_code: str) -> dict[str, Any]:
    """The body SandboxCourier.create sends for the parcel the courier holds (`view`), under a new client code:
    `_parcel_body(parcel) | {client_code, origin_province}`, built with the adapter's own function."""
    a = view["address"]
    parcel = Parcel(
        client_code=client_code,
        recipient_name=view["recipient_name"],
        phones=tuple(view["phones"]),
        address=Address(a["line"], a["ward_code"], a["province_code"], a["ward_name"], a["province_name"]),
        items=tuple(
            Item(i["sku"], i["name"], i["quantity"], i["unit_price"], i.get("size"), i.get("color"))
            for i in view["items"]
        ),
        cod_amount=view["cod_amount"],
        value=view["value"],
        fee_payer=view["fee_payer"],
        try_on=view["try_on"],
        weight_g=view["weight_g"],
        note=view["note"],
    )
    return _parcel_body(parcel) | {"client_code": parcel.client_code, "origin_province": view["origin_province"]}


async def list_shipments(api: httpx.AsyncClient, wanted: set[UUID]) -> dict[UUID, dict[str, Any]]:
    """GET /api/orders?status=ready_to_ship&limit=200, every page: {order id: order} for the wanted ids."""
    found: dict[UUID, dict[str, Any]] = {}
    offset = 0
    while True:
        response = await api.get("/api/orders", params={"status": "ready_to_ship", "limit": 200, "offset": offset})
        response.raise_for_status()
        page = response.json()
        for item in page["items"]:
            if (order_id := UUID(item["id"])) in wanted:
                found[order_id] = item
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"] or len(found) == len(wanted):
            return found


def synced(order: dict[str, Any]) -> bool:
    shipment = order.get("shipment") or {}
    return shipment.get("sync_state") == "synced" and (shipment.get("synced_version") or 0) >= order["version"]
