"""A fake Ahamove API as a Litestar app, reproducing the documented contract (couriers.md §5, §9).

Bearer auth on v3, `path[]` with per-point COD, PATCH amend with its status and "once per point" guards, the v1
cancel with 402/404/406, and the webhook: the full order object with the partner's chosen auth header. What the
sources leave open is marked [G].
"""

from __future__ import annotations

import base64
import copy
import functools
import itertools
import re
from typing import Any, NamedTuple

import httpx
from litestar import Litestar, Request, Response, get, patch, post
from litestar.params import FromPath

from couriers.ahamove.statuses import AMENDABLE, CANCELLABLE

START = 1_754_013_600.0  # 2025-08-01 09:00 +07:00, in Ahamove's Unix seconds
COD_CAP = 10_000_000  # §5: the service's `cod` cap, e.g. 10,000,000
PAYMENTS = ("BALANCE", "CASH", "CASH_BY_RECIPIENT")
CITIES = ("SGN", "HAN")
ONWHEEL = "VNM-PARTNER-"
_TIMES = {
    "ACCEPTED": "accept_time",
    "IN PROCESS": "pickup_time",
    "COMPLETED": "complete_time",
    "CANCELLED": "cancel_time",
}
_MOBILE = re.compile(r"0\d{9}")


class Call(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class AhamoveError(Exception):
    """[G] Ahamove's error body: `{code, title, description}` with the HTTP status."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def response(self) -> Response[Any]:
        content = {"code": self.code, "title": self.code.replace("_", " ").title(), "description": self.description}
        return Response(content=content, status_code=self.status)


class _Network(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeAhamove) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._fake._network_errors:
            raise self._fake._network_errors.pop(0)
        app: Any = self._fake.app
        return await httpx.ASGITransport(app=app).handle_async_request(request)


def _service_known(service_id: Any) -> bool:
    return isinstance(service_id, str) and (service_id.startswith(ONWHEEL) or service_id[:3] in CITIES)


def _check_point(point: Any, index: int) -> None:
    if not isinstance(point, dict):
        raise AhamoveError(400, "INVALID_PATH", f"path[{index}] is not a point")
    for name in ("address", "name", "mobile"):
        if not point.get(name):
            raise AhamoveError(400, "INVALID_PATH", f"path[{index}].{name} is required")
    if not _MOBILE.fullmatch(str(point["mobile"])):
        raise AhamoveError(400, "INVALID_MOBILE", f"path[{index}].mobile is not a phone number: {point['mobile']}")
    cod = point.get("cod", 0)
    if isinstance(cod, bool) or not isinstance(cod, int) or not 0 <= cod <= COD_CAP:
        raise AhamoveError(400, "INVALID_COD", f"path[{index}].cod must be from 0 to {COD_CAP}: {cod!r}")


def fee_for(body: dict[str, Any], service_id: str) -> int:
    """A deterministic stand-in for Ahamove's price: a base per service, per stop, and 0.8 % of the COD."""
    cod = sum(int(p.get("cod", 0)) for p in body["path"][1:])
    return (15_000 if "BIKE" in service_id else 25_000) + 8_000 * (len(body["path"]) - 1) + cod * 8 // 1000


class FakeAhamove:
    """Ahamove's orders for one token. `app` serves v1 and v3; the other public methods steer it from a test."""

    def __init__(self, *, token: str = "aha-token", webhook_header: tuple[str, str] = ("apikey", "aha-hook")) -> None:
        self.token, self.webhook_header = token, webhook_header
        self.orders: dict[str, dict[str, Any]] = {}
        self.patched: dict[tuple[str, int], set[str]] = {}  # (order, point) -> "cod"/"address" already changed
        self.calls: list[Call] = []
        self.pending_webhooks: list[dict[str, Any]] = []
        self.webhook_attempts: list[tuple[dict[str, Any], int | None]] = []
        self._failures: list[int] = []
        self._network_errors: list[httpx.TransportError] = []
        self._lose_create = False
        self.read_endpoint = True  # [G] GET /v3/orders/{id} is not in the sources read: a test may take it away
        self._ids = itertools.count(1)
        self._clock = START

    @functools.cached_property
    def app(self) -> Litestar:
        return self._build_app()

    # -- test controls -------------------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        return _Network(self)

    def break_next(self, error: httpx.TransportError) -> None:
        self._network_errors.append(error)

    def fail_next(self, count: int = 1, status_code: int = 500) -> None:
        self._failures.extend([status_code] * count)

    def heal(self) -> None:
        self._failures.clear()

    def lose_next_create_response(self) -> None:
        self._lose_create = True

    def basic(self, user: str, password: str) -> None:
        """Webhooks go with `Authorization: Basic ...`, as when the partner registered Basic auth."""
        self.webhook_header = ("authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())

    def set_status(self, order_id: str, status: str, point_status: str | None = None, **point: Any) -> dict[str, Any]:
        """Move an order (and its drop point) as Ahamove would, and queue the webhook: the whole order."""
        order = self.orders[order_id]
        now = self._tick()
        order["status"] = status
        drop = order["path"][1]
        if point_status is not None:
            drop["status"] = point_status
            drop[{"COMPLETED": "complete_time", "FAILED": "fail_time"}.get(point_status, "update_time")] = now
        drop.update(point)
        order[_TIMES.get(status, "update_time")] = now
        payload = copy.deepcopy(order)
        self.pending_webhooks.append(payload)
        return payload

    async def deliver_webhooks(self, client: httpx.AsyncClient, url: str, attempts: int = 1) -> list[dict[str, Any]]:
        """POST each queued order with the registered auth header; [C] a non-200 is resent only by hand from the
        portal, so `attempts` stands for those. Returns the payloads never taken with HTTP 200."""
        undelivered = []
        while self.pending_webhooks:
            payload = self.pending_webhooks.pop(0)
            for _ in range(attempts):
                headers = dict([self.webhook_header])
                try:
                    response = await client.post(url, json=payload, headers=headers, timeout=httpx.Timeout(5.0))
                except httpx.HTTPError:
                    self.webhook_attempts.append((payload, None))
                    continue
                self.webhook_attempts.append((payload, response.status_code))
                if response.status_code == 200:
                    break
            else:
                undelivered.append(payload)
        return undelivered

    # -- the API -------------------------------------------------------------------------------------------------

    def _tick(self) -> float:
        self._clock += 60.0
        return self._clock

    async def _before(self, request: Request[Any, Any, Any], body: Any) -> None:
        self.calls.append(
            Call(request.method, request.url.path, dict(request.query_params), dict(request.headers), body)
        )
        if self._failures:
            status = self._failures.pop(0)
            raise AhamoveError(status, "SERVER_ERROR", "Hệ thống đang bận")
        v1 = request.url.path.startswith("/v1/")
        given = (
            request.query_params.get("token")
            if v1
            else request.headers.get("authorization", "").removeprefix("Bearer ")
        )
        if given != self.token:
            raise AhamoveError(404 if v1 else 401, "TOKEN_NOT_FOUND" if v1 else "NOT_AUTHORIZED", "Token not found")

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise AhamoveError(404, "ORDER_NOT_FOUND", f"Order {order_id} not found")
        return self.orders[order_id]

    def _validate(self, body: Any, services: list[Any]) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("path"), list) or len(body["path"]) < 2:
            raise AhamoveError(400, "INVALID_PATH", "path needs a pickup and at least one drop point")
        for service in services:
            if not _service_known(service):
                raise AhamoveError(400, "SERVICE_NOT_FOUND", f"service {service!r} not found")
        if body.get("payment_method", "CASH") not in PAYMENTS:
            raise AhamoveError(400, "INVALID_PAYMENT_METHOD", f"payment_method {body.get('payment_method')!r}")
        for index, point in enumerate(body["path"]):
            _check_point(point, index)
        return body

    def _create(self, body: Any) -> Response[Any]:
        self._validate(body, [body.get("service_id")] if isinstance(body, dict) else [])
        order_id = f"25AHA{next(self._ids):04d}"
        now = self._tick()
        path = [{**point, "status": None} for point in body["path"]]
        order = {
            "_id": order_id,
            "status": "IDLE" if body.get("order_time", 0) else "ASSIGNING",
            "service_id": body["service_id"],
            "city_id": body["service_id"][:3],
            "payment_method": body.get("payment_method", "CASH"),
            "path": path,
            "items": body.get("items", []),
            "remarks": body.get("remarks", ""),
            "create_time": now,
            "total_pay": fee_for(body, body["service_id"]),
            "cancel_by_user": False,
        }
        self.orders[order_id] = order
        if self._lose_create:
            self._lose_create = False
            return Response(content="504 Gateway Time-out", status_code=504, media_type="text/plain")
        answer = {"order_id": order_id, "status": order["status"], "shared_link": f"https://aha.test/{order_id}"}
        return Response(content={**answer, "order": order}, status_code=200)

    def _estimate(self, body: Any) -> Response[Any]:
        services = (
            [s.get("_id") for s in body.get("services", []) if isinstance(s, dict)] if isinstance(body, dict) else []
        )
        self._validate(body, services)
        answer = [
            {"service_id": s, "data": {"total_pay": fee_for(body, str(s)), "distance": 4.2, "duration": 1800}}
            for s in services
        ]
        return Response(content=answer, status_code=200)

    def _patch(self, order_id: str, body: Any) -> Response[Any]:
        order = self._order(order_id)
        if order["status"] not in AMENDABLE:
            raise AhamoveError(406, "INVALID_STATUS", f"Order {order_id} is {order['status']}: it cannot be updated")
        given = body if isinstance(body, dict) else {}
        index = given.get("path_index")
        if not isinstance(index, int) or not 1 <= index < len(order["path"]):
            raise AhamoveError(400, "INVALID_PATH_INDEX", "path_index must name a delivery point")
        point = order["path"][index]
        once = [name for name, field in (("cod", "cod"), ("address", "address_info")) if field in given]
        if once and not order["service_id"].startswith(ONWHEEL):
            raise AhamoveError(400, "NOT_SUPPORTED", f"{' and '.join(once)} can change on OnWheel services only")
        if once and order["payment_method"] not in ("BALANCE", "CASH"):
            raise AhamoveError(400, "NOT_SUPPORTED", f"{' and '.join(once)} cannot change with this payment method")
        done = self.patched.setdefault((order_id, index), set())
        if again := [name for name in once if name in done]:
            raise AhamoveError(400, "UPDATE_LIMIT", f"{' and '.join(again)} of point {index} was already changed once")
        changed = {**point, **{k: given[k] for k in ("name", "mobile", "remarks", "cod") if k in given}}
        if "address_info" in given:
            changed.update(given["address_info"])
        _check_point(changed, index)
        order["path"][index] = changed
        done.update(once)
        return Response(content={"order_id": order_id, "status": order["status"]}, status_code=200)

    def _cancel(self, query: dict[str, str]) -> Response[Any]:
        order = self._order(query.get("order_id", ""))
        if order["status"] not in CANCELLABLE:
            raise AhamoveError(
                406, "INVALID_STATUS", f"Order {order['_id']} is {order['status']}: it cannot be cancelled"
            )
        if order["status"] == "ACCEPTED" and not (query.get("comment") and query.get("cancel_code")):
            raise AhamoveError(402, "NOT_ALLOWED", "comment and cancel_code are required once a driver accepted")
        order["cancel_by_user"], order["cancel_comment"] = True, query.get("comment", "")
        self.set_status(order["_id"], "CANCELLED")  # reported by webhook too
        return Response(content={"order_id": order["_id"], "status": "CANCELLED"}, status_code=200)

    def _build_app(self) -> Litestar:
        async def body_of(request: Request[Any, Any, Any]) -> Any:
            try:
                return await request.json()
            except Exception:  # a body that is not JSON is validated as missing
                return None

        @post("/v3/orders", status_code=200)
        async def create(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await body_of(request)
            await self._before(request, body)
            return self._create(body)

        @post("/v3/orders/estimates", status_code=200)
        async def estimate(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await body_of(request)
            await self._before(request, body)
            return self._estimate(body)

        @get("/v3/orders/{order_id:str}")
        async def read(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[Any]:
            await self._before(request, None)
            if not self.read_endpoint:
                raise AhamoveError(404, "NOT_FOUND", "Not Found")
            return Response(content=self._order(order_id), status_code=200)

        @patch("/v3/orders/{order_id:str}", status_code=200)
        async def amend(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[Any]:
            body = await body_of(request)
            await self._before(request, body)
            return self._patch(order_id, body)

        @get("/v1/order/cancel")
        async def cancel(request: Request[Any, Any, Any]) -> Response[Any]:
            await self._before(request, None)
            return self._cancel(dict(request.query_params))

        def refused(_: Request[Any, Any, Any], error: AhamoveError) -> Response[Any]:
            return error.response()

        return Litestar(
            route_handlers=[create, estimate, read, amend, cancel], exception_handlers={AhamoveError: refused}
        )
