"""A fake GHTK OPEN_API as a Litestar app, reproducing the documented contract (couriers.md §2, §9) for tests."""

from __future__ import annotations

import datetime
import functools
import itertools
import json
from typing import Any, NamedTuple

import anyio
import httpx
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from couriers.ghtk.statuses import CANCELLABLE, SHIPPER_REPORTS, STATUSES
from fakes.ghtk.rules import (
    FIELD_REQUIRED,
    ORDER_ID_EXIST,
    ORDER_NOT_FOUND,
    FakeError,
    FakeOrder,
    fee_for,
    validate_create,
)

_START = datetime.datetime(2025, 8, 1, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
_AUTH = FakeError(401, "Cần cung cấp token hợp lệ", "20101")  # §2.1
_PICKED = "Đơn đã lấy hàng, không thể hủy đơn."  # §2.4, verbatim
_CANCELLED = "Đơn hàng đã đã ở trạng thái hủy"  # §2.4, verbatim (GHTK's typo included)
_ADDED = "Các đơn hàng đã được add vào hệ thống GHTK thành công."


class Call(NamedTuple):
    method: str
    path: str  # with the query string, e.g. /services/shipment/order/?ver=1.5
    headers: dict[str, str]  # lower-case names
    body: bytes


class _Network(httpx.AsyncBaseTransport):
    """The app over ASGI behind a network that fails on demand, noting the timeout each request carried."""

    def __init__(self, fake: FakeGhtk) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._fake.timeouts.append(request.extensions.get("timeout"))
        if self._fake._network_errors:
            raise self._fake._network_errors.pop(0)
        app: Any = self._fake.app  # a Litestar app is an ASGI app; httpx's annotation is narrower than Litestar's
        return await httpx.ASGITransport(app=app).handle_async_request(request)


class FakeGhtk:
    """GHTK's API in memory. `app` serves it; the other public methods steer it from a test."""

    def __init__(
        self, *, token: str = "test-token", partner_code: str = "S1000", require_district: bool = False
    ) -> None:
        self.token, self.partner_code, self.require_district = token, partner_code, require_district
        self.orders: dict[str, FakeOrder] = {}  # by label
        self.calls: list[Call] = []
        self.pending_webhooks: list[dict[str, str]] = []
        self.webhook_attempts: list[tuple[dict[str, str], int | None]] = []  # (payload, HTTP status or None)
        self.timeouts: list[Any] = []  # per request through transport(): httpx's timeout extension
        self._failures: list[int] = []
        self._network_errors: list[httpx.TransportError] = []
        self._lose_create = False
        self._ids = itertools.count(1)
        self._clock = _START

    @functools.cached_property
    def app(self) -> Litestar:
        """The ASGI app; built on first use, as building it is most of a test's set-up time."""
        return self._build_app()

    # -- test controls -------------------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport to the app, for `httpx.AsyncClient(transport=...)`, that can time out on demand."""
        return _Network(self)

    def break_next(self, error: httpx.TransportError) -> None:
        """The next request through transport() fails in the network with `error` (a timeout, a refused connection)."""
        self._network_errors.append(error)

    def fail_next(self, count: int = 1, status_code: int = 500) -> None:
        """The next `count` API calls answer `status_code` without doing anything."""
        self._failures.extend([status_code] * count)

    def lose_next_create_response(self) -> None:
        """The next create is stored, then answered 504, as when GHTK's gateway times out after the work."""
        self._lose_create = True

    def order(self, tracking: str) -> FakeOrder:
        """An order by label or by `partner_id:{order.id}`; KeyError when there is none."""
        if not tracking.startswith("partner_id:"):
            return self.orders[tracking]
        partner_id = tracking.removeprefix("partner_id:")
        for stored in self.orders.values():
            if stored.partner_id == partner_id:
                return stored
        raise KeyError(tracking)

    def set_status(
        self, label: str, status_id: int, *, return_part_package: bool = False, pick_money: int | None = None
    ) -> dict[str, str]:
        """Move an order as GHTK would and queue the webhook it sends; shipper reports only send the webhook."""
        if status_id not in STATUSES:
            raise ValueError(f"status {status_id} is not documented in couriers.md §2.5")
        order = self.orders[label]
        if pick_money is not None:
            order.pick_money = pick_money  # a partial delivery collects less than asked
        if status_id not in SHIPPER_REPORTS:
            order.status_id = status_id
            order.history.append(status_id)
        order.modified = self._tick()
        payload = {
            "label_id": order.label,
            "partner_id": order.partner_id,
            "status_id": str(status_id),
            "action_time": order.modified,
            "reason_code": "",
            "reason": "",
            "weight": str(order.weight_g() / 1000),
            "fee": str(order.fee),
            "pick_money": str(order.pick_money),
            "return_part_package": "1" if return_part_package else "0",
        }
        self.pending_webhooks.append(payload)
        return payload

    async def deliver_webhooks(
        self, client: httpx.AsyncClient, url: str, attempts: int = 3, interval_s: float = 0.0
    ) -> list[dict[str, str]]:
        """POST each queued webhook form-urlencoded, resending until HTTP 200 (§2.5); returns those never taken."""
        undelivered: list[dict[str, str]] = []
        while self.pending_webhooks:
            payload = self.pending_webhooks.pop(0)
            for attempt in range(attempts):
                if attempt:
                    await anyio.sleep(interval_s)
                try:
                    response = await client.post(url, data=payload, timeout=httpx.Timeout(5.0))
                except httpx.HTTPError:
                    self.webhook_attempts.append((payload, None))
                    continue
                self.webhook_attempts.append((payload, response.status_code))
                if response.status_code == 200:  # §2.5: success is 200 only, not any 2xx
                    break
            else:
                undelivered.append(payload)
        return undelivered

    # -- the API -------------------------------------------------------------------------------------------------

    def _tick(self) -> str:
        # A clock of its own keeps action_time (part of the event key) deterministic and strictly increasing.
        self._clock += datetime.timedelta(minutes=1)
        return self._clock.isoformat()

    def _answer(self, status_code: int, body: dict[str, Any]) -> Response[Any]:
        return Response(content=body, status_code=status_code, media_type="application/json")

    def _refuse(self, error: FakeError) -> Response[Any]:
        return self._answer(error.status_code, error.body(log_id=f"fake-{next(self._ids)}"))

    async def _before(self, request: Request[Any, Any, Any]) -> Response[Any] | None:
        # The raw path, as sent: what a test asserts is the exact request on the wire.
        query = request.scope.get("query_string", b"").decode()
        path = request.scope.get("raw_path", request.scope["path"].encode()).decode() + (f"?{query}" if query else "")
        self.calls.append(Call(request.method, path, dict(request.headers), await request.body()))
        if self._failures:
            status = self._failures.pop(0)
            message = "Đã có lỗi xảy ra!" if status >= 500 else "Fake GHTK failure"  # §2.1 10101's text
            return self._refuse(FakeError(status, message, "10101" if status == 500 else str(status)))
        if request.headers.get("token") != self.token or request.headers.get("x-client-source") != self.partner_code:
            return self._refuse(_AUTH)
        return None

    def _create(self, raw: bytes) -> Response[Any]:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        try:
            order, products = validate_create(body, require_district=self.require_district)
            existing = next((o for o in self.orders.values() if o.partner_id == str(order["id"])), None)
            if existing is not None:
                # [G] §2.7: the duplicate body is undocumented. Cancelled orders keep their id too, so a
                # cancel-and-recreate must use a new order.id.
                message = f"Mã đơn hàng {order['id']} đã tồn tại trên hệ thống (đơn hàng đã tồn tại)"
                raise FakeError(422, message, ORDER_ID_EXIST, label=existing.label)
        except FakeError as error:
            return self._refuse(error)
        number = next(self._ids)
        tags = {int(tag) for tag in order.get("tags", [])}
        now = self._tick()
        label = f"S{self.partner_code}.A1.{17373470 + number}"
        stored = FakeOrder(label, 1_000_000 + number, order, products, 2, 0, 0, now, now)
        price = fee_for(order["pick_province"], order["province"], stored.weight_g(), int(order.get("value", 0)), tags)
        stored.fee, stored.insurance_fee, stored.pick_money = price["fee"], price["insurance_fee"], order["pick_money"]
        stored.history.append(2)
        self.orders[stored.label] = stored
        if self._lose_create:
            self._lose_create = False
            return Response(content="504 Gateway Time-out", status_code=504, media_type="text/plain")
        answer = {
            "partner_id": stored.partner_id,
            "label": stored.label,
            "area": "1",
            "fee": stored.fee,
            "insurance_fee": stored.insurance_fee,
            "tracking_id": stored.tracking_id,
            "estimated_pick_time": "Sáng 2025-08-02",
            "estimated_deliver_time": "Chiều 2025-08-03",
            "products": [],
            "status_id": stored.status_id,  # §2.2: 2 on success
        }
        return self._answer(200, {"success": True, "message": _ADDED, "order": answer})

    def _status(self, tracking: str) -> Response[Any]:
        try:
            stored = self.order(tracking)
        except KeyError:
            return self._refuse(FakeError(404, f"Không tìm thấy đơn hàng {tracking}", ORDER_NOT_FOUND))
        return self._answer(200, {"success": True, "message": "", "order": stored.view()})

    def _cancel(self, tracking: str) -> Response[Any]:
        try:
            stored = self.order(tracking)
        except KeyError:
            return self._refuse(FakeError(404, f"Không tìm thấy đơn hàng {tracking}", ORDER_NOT_FOUND))
        if stored.status_id == -1:
            return self._answer(200, {"success": False, "message": _CANCELLED, "log_id": f"fake-{next(self._ids)}"})
        if stored.status_id not in CANCELLABLE:  # §2.4: only 1, 2 and 12
            return self._answer(200, {"success": False, "message": _PICKED, "log_id": f"fake-{next(self._ids)}"})
        self.set_status(stored.label, -1)  # GHTK reports its own cancellations by webhook as well
        return self._answer(200, {"success": True, "message": "", "log_id": f"fake-{next(self._ids)}"})

    def _fee(self, params: dict[str, list[str]]) -> Response[Any]:
        required = ["pick_province", "province", "weight", "deliver_option"]
        required += ["pick_district", "district"] if self.require_district else []
        missing = [name for name in required if not (params.get(name) or [""])[0]]
        if missing:
            return self._refuse(FakeError(422, f"Thiếu thông tin bắt buộc: {', '.join(missing)}", FIELD_REQUIRED))
        try:
            weight, value = int(params["weight"][0]), int((params.get("value") or ["0"])[0])
            tags = {int(tag) for tag in params.get("tags[]", [])}
        except ValueError:
            return self._refuse(FakeError(422, "Khối lượng hoặc giá trị không hợp lệ", FIELD_REQUIRED))
        fee = fee_for(params["pick_province"][0], params["province"][0], weight, value, tags)
        return self._answer(200, {"success": True, "message": "Thành công", "fee": fee})

    def _build_app(self) -> Litestar:
        @post("/services/shipment/order", status_code=200)
        async def create(request: Request[Any, Any, Any]) -> Response[Any]:
            return self._create(await request.body())

        @get("/services/shipment/v2/{tracking:str}")
        async def status(tracking: FromPath[str]) -> Response[Any]:
            return self._status(tracking)

        @post("/services/shipment/cancel/{tracking:str}", status_code=200)
        async def cancel(tracking: FromPath[str]) -> Response[Any]:
            return self._cancel(tracking)

        @get("/services/shipment/fee")
        async def fee(request: Request[Any, Any, Any]) -> Response[Any]:
            return self._fee({key: request.query_params.getall(key) for key in request.query_params})

        def not_routed(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
            # §2.1: 10104 path not found, 10102 wrong method, 10101 anything else.
            code = {404: "10104", 405: "10102"}.get(exc.status_code, "10101")
            return self._refuse(FakeError(exc.status_code, exc.detail or "Đã có lỗi xảy ra!", code))

        return Litestar(
            route_handlers=[create, status, cancel, fee],
            before_request=self._before,
            exception_handlers={HTTPException: not_routed},
        )
