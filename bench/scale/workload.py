"""The open-loop mixed workload: one operation started every 1/rate s whatever the answers, each request recorded.

Requests go to one address (the load balancer in front of the API processes, or the one embedded server), each on
a new connection so that the balancer spreads requests, not long-lived connections, over the processes."""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from benchlib.load import order_payload, unique_phones
from benchlib.servers import REQUEST_TIMEOUT

# Relative weights of the operations the scheduler picks from.
MIX = {"create": 3, "amend": 4, "pay": 1, "merge": 1, "ship": 2, "courier_event": 2, "edit_page": 1, "dashboard": 1}
CUSTOMERS = 12  # a small pool, so that one customer soon has two open orders to merge
PAYMENT = 50_000  # VND per add_payment


@dataclass
class Record:
    op: str
    start: float  # seconds since the run started
    latency_ms: float
    status: int  # 0: no answer (transport error or timeout)
    port: int  # where it was sent: the balancer's port, or 0 for the courier's test driver
    order_id: str | None = None
    version: int | None = None  # the ETag acknowledged by a 2xx
    note: str | None = None


@dataclass
class Order:
    id: str
    phone: str
    version: int
    status: str = "pending"
    paid: int = 0  # expected: acknowledged payments, plus merged sources' paid
    busy: bool = False
    tracking: str | None = None
    courier_state: str = "created"
    merged: bool = False
    acked: list[dict[str, Any]] = field(default_factory=list)  # {"version", "name"} of each 2xx set_recipient


class Workload:
    """Drives the API at a fixed arrival rate; `records` is the history, `orders` the client's model."""

    def __init__(self, base_url: str, key: str, sandbox_url: str, user: tuple[str, str] | None) -> None:
        self.port = httpx.URL(base_url).port or 80
        self.key = key
        self.sandbox_url = sandbox_url
        self.user = user
        self.records: list[Record] = []
        self.orders: dict[str, Order] = {}
        self.merges: list[dict[str, Any]] = []  # {"survivor", "sources", "paid"} of each 2xx merge
        self.phones = unique_phones(CUSTOMERS)
        self.t0 = time.perf_counter()
        self._names = 0
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)  # a connection per request
        auth = {"Authorization": f"Bearer {key}"}
        self.api = httpx.AsyncClient(base_url=base_url, headers=auth, limits=limits, timeout=REQUEST_TIMEOUT)
        self.browser = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT)  # a session cookie
        self.courier = httpx.AsyncClient(base_url=sandbox_url, headers=auth, timeout=30.0)  # the driver takes a key

    async def close(self) -> None:
        for client in (self.api, self.browser, self.courier):
            await client.aclose()

    async def _call(self, op: str, client: httpx.AsyncClient, port: int, method: str, url: str,
                    order: Order | None = None, **kw: Any) -> httpx.Response | None:  # fmt: skip
        start = time.perf_counter()
        response: httpx.Response | None = None
        note = None
        try:
            response = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            note = type(exc).__name__
        latency = (time.perf_counter() - start) * 1000
        status = response.status_code if response is not None else 0
        version = None
        if response is not None and 200 <= status < 300 and "etag" in response.headers:
            version = int(response.headers["etag"].strip('"W/'))
        if response is not None and status >= 400:
            note = response.text[:160]
        self.records.append(Record(op, round(start - self.t0, 4), round(latency, 2), status, port,
                                   order.id if order else None, version, note))  # fmt: skip
        return response

    async def run(self, seconds: float, rate: float, t0: float) -> None:
        """From t0 (perf_counter), start one operation every 1/rate s for `seconds`; then wait for the ones still
        running (bounded)."""
        self.t0 = t0
        ops, weights = list(MIX), list(MIX.values())
        if self.user is None:
            weights[ops.index("dashboard")] = 0
        tasks: set[asyncio.Task[None]] = set()
        for i in range(int(seconds * rate)):
            delay = self.t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._one(random.choices(ops, weights)[0]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=60)

    async def _one(self, op: str) -> None:
        handler = getattr(self, f"op_{op}")
        try:
            await handler()
        except Exception as exc:  # one broken operation must not stop the schedule; it shows in the history
            self.records.append(Record(op, round(time.perf_counter() - self.t0, 4), 0, -1, 0, None, None, repr(exc)))

    def _pick(self, *, statuses: tuple[str, ...], courier: str | None = None) -> Order | None:
        free = [o for o in self.orders.values() if not o.busy and not o.merged and o.status in statuses
                and (courier is None or o.courier_state == courier)]  # fmt: skip
        if not free:
            return None
        order = random.choice(free)
        order.busy = True
        return order

    # -- operations ------------------------------------------------------------------------------------------

    async def op_create(self) -> None:
        phone = random.choice(self.phones)
        r = await self._call("create", self.api, self.port, "POST", "/api/orders", json=order_payload(phone))
        if r is not None and r.status_code == 201:
            body = r.json()
            self.orders[body["id"]] = Order(body["id"], phone, int(r.headers["etag"].strip('"')))
            self.records[-1].order_id = body["id"]

    async def _amend(self, op: str, operations: list[dict[str, Any]], order: Order) -> httpx.Response | None:
        r = await self._call(op, self.api, self.port, "POST", f"/api/orders/{order.id}/amendments", order,
                             headers={"If-Match": f'"{order.version}"'},
                             json={"operations": operations, "reason": "scale bench"})  # fmt: skip
        if r is not None and r.status_code == 200:
            order.version = int(r.headers["etag"].strip('"'))
        elif r is not None and r.status_code == 412:
            await self._refresh(order)
        return r

    async def op_amend(self) -> None:
        order = self._pick(statuses=("pending", "confirmed", "shipped"), courier="created")
        if order is None:
            return
        try:
            self._names += 1
            name = f"Người nhận {self._names}"
            r = await self._amend("amend", [{"op": "set_recipient", "name": name}], order)
            if r is not None and r.status_code == 200:
                order.acked.append({"version": order.version, "name": name})
        finally:
            order.busy = False

    async def op_pay(self) -> None:
        order = self._pick(statuses=("pending", "confirmed"))
        if order is None:
            return
        try:
            op = {"op": "add_payment", "amount": PAYMENT}
            r = await self._amend("pay", [op], order)
            if r is not None and r.status_code == 200:
                order.paid += PAYMENT
        finally:
            order.busy = False

    async def _refresh(self, order: Order) -> None:
        r = await self._call("get", self.api, self.port, "GET", f"/api/orders/{order.id}", order)
        if r is not None and r.status_code == 200:
            order.version = int(r.headers["etag"].strip('"'))
            body = r.json()
            order.status = body["status"]
            shipment = body.get("shipment") or {}
            order.tracking = shipment.get("tracking_code") or order.tracking

    async def op_merge(self) -> None:
        by_phone: dict[str, list[Order]] = {}
        for o in self.orders.values():
            if not o.busy and not o.merged and o.status in ("pending", "confirmed"):
                by_phone.setdefault(o.phone, []).append(o)
        pairs = [v for v in by_phone.values() if len(v) >= 2]
        if not pairs:
            return
        a, b = random.sample(random.choice(pairs), 2)
        a.busy = b.busy = True
        try:
            body = {"order_ids": [a.id, b.id], "into": a.id, "versions": {a.id: a.version, b.id: b.version}}
            r = await self._call("merge", self.api, self.port, "POST", "/api/orders/merge", a, json=body)
            if r is not None and r.status_code == 201:
                self.merges.append({"survivor": a.id, "sources": [b.id], "paid": a.paid + b.paid})
                a.paid, b.merged = a.paid + b.paid, True
                await self._refresh(a)
            elif r is not None and r.status_code == 409:
                await self._refresh(a)
                await self._refresh(b)
        finally:
            a.busy = b.busy = False

    async def op_ship(self) -> None:
        order = self._pick(statuses=("pending", "confirmed"))
        if order is None:
            return
        try:
            if order.status == "pending":
                r = await self._call("confirm", self.api, self.port, "POST", f"/api/orders/{order.id}/confirm",
                                     order, headers={"If-Match": f'"{order.version}"'})  # fmt: skip
                if r is None or r.status_code != 200:
                    if r is not None and r.status_code in (409, 412):
                        await self._refresh(order)
                    return
                order.version, order.status = int(r.headers["etag"].strip('"')), "confirmed"
            r = await self._call("ship", self.api, self.port, "POST", f"/api/orders/{order.id}/ship", order,
                                 headers={"If-Match": f'"{order.version}"'})  # fmt: skip
            if r is not None and r.status_code == 200:
                order.version, order.status = int(r.headers["etag"].strip('"')), "shipped"
            elif r is not None and r.status_code in (409, 412):
                await self._refresh(order)
        finally:
            order.busy = False

    async def op_courier_event(self) -> None:
        """Move a synced parcel on: picked, then delivered (all kept), through the sandbox's test driver."""
        order = self._pick(statuses=("shipped", "in_transit"))
        if order is None:
            return
        try:
            if order.tracking is None:
                await self._refresh(order)
                if order.tracking is None:
                    return  # the relay has not created the courier order yet
            nxt = {"created": "picked", "picked": "delivered"}.get(order.courier_state)
            if nxt is None:
                return
            body: dict[str, Any] = {"status": nxt}  # no `kept`: she keeps everything (merged orders have more lines)
            r = await self._call(f"courier_{nxt}", self.courier, 0, "POST", f"/shipments/{order.tracking}/events",
                                 order, json=body)  # fmt: skip
            if r is not None and r.status_code == 200:
                order.courier_state = nxt
                order.status = "in_transit" if nxt == "picked" else "delivered"
        finally:
            order.busy = False

    async def op_edit_page(self) -> None:
        if not self.orders:
            return
        order = random.choice(list(self.orders.values()))
        r = await self._call("edit_link", self.api, self.port, "POST", f"/api/orders/{order.id}/edit-link", order,
                             json={})  # fmt: skip
        if r is None or r.status_code != 201:
            return
        url = r.json()["url"]
        path = re.sub(r"^https?://[^/]+", "", url)
        await self._call("edit_page", self.browser, self.port, "GET", path, order)

    async def login(self) -> None:
        """Sign in to the dashboard (the login form's CSRF cookie and field); the session is in the database, so
        every API process behind the balancer knows it."""
        if self.user is None:
            return
        await self.browser.get("/dashboard/login")
        token = self.browser.cookies.get("csrftoken") or ""
        form = {"username": self.user[0], "password": self.user[1], "_csrf_token": token, "next": "/dashboard/orders"}
        r = await self.browser.post("/dashboard/login", data=form, headers={"x-csrftoken": token})
        if r.status_code != 303:
            raise RuntimeError(f"dashboard login answered {r.status_code}: {r.text[:200]}")

    async def op_dashboard(self) -> None:
        await self._call("dashboard", self.browser, self.port, "GET", "/dashboard/orders?per_page=20")

    def history(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.records]
