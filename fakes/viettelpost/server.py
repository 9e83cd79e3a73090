"""A fake Viettel Post partner API v2 as a Litestar app, reproducing the documented contract (couriers.md §3, §9).

Login and tokens, createOrder, getPrice, UpdateOrder TYPE 1-5 and 11 with their status rules, and the webhook
`{DATA: {...}, TOKEN}` with ORDER_STATUSDATE as `dd/MM/yyyy HH:mm:ss`. What the sources leave open is marked [G].
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json
from typing import Any, NamedTuple

import httpx
from litestar import Litestar, Request, Response, post

from couriers.viettelpost.statuses import CANCELLABLE, STATUSES, status_text
from fakes.viettelpost.orders import FakeOrder, VtpError, price, validate_create, validate_price

_START = datetime.datetime(2025, 8, 1, 9, 0)  # Vietnamese local time, as VTP writes it
DATE_FORMAT = "%d/%m/%Y %H:%M:%S"
_AUTH = VtpError("Token không hợp lệ hoặc đã hết hạn", status=401, http_status=401)  # [G] the text and codes
# §3.4 UpdateOrder TYPE -> (statuses it is taken in, the status it moves to). [G] the docs give no status lists.
ACTIONS: dict[int, tuple[frozenset[int], int | None]] = {
    1: (frozenset({-100}), 100),  # approve
    2: (frozenset({505, 506, 507, 510}), 502),  # approve the return
    3: (frozenset({505, 506, 507, 510}), 508),  # deliver again
    4: (CANCELLABLE, 107),  # cancel
    5: (frozenset({104}), 103),  # take again: back to the post office's pickup queue
    11: (frozenset({107}), None),  # delete a cancelled order
}


class Call(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # the JSON sent


class _Network(httpx.AsyncBaseTransport):
    """The app over ASGI behind a network that fails on demand."""

    def __init__(self, fake: FakeViettelPost) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._fake._network_errors:
            raise self._fake._network_errors.pop(0)
        app: Any = self._fake.app
        return await httpx.ASGITransport(app=app).handle_async_request(request)


class FakeViettelPost:
    """VTP's API in memory for one customer account. `app` serves it; the other public methods steer it."""

    def __init__(
        self,
        *,
        username: str = "shop@example.vn",
        password: str = "vtp-pass",
        token: str = "vtp-token",
        webhook_token: str = "vtp-hook-token",
        initial_status: int = 100,  # [G] -100 when the account must approve (TYPE=1) each order itself
    ) -> None:
        self.username, self.password, self.webhook_token = username, password, webhook_token
        self.tokens = {token}
        self.initial_status = initial_status
        self.orders: dict[str, FakeOrder] = {}  # by waybill
        self.calls: list[Call] = []
        self.pending_webhooks: list[dict[str, Any]] = []
        self.webhook_attempts: list[tuple[dict[str, Any], int | None]] = []
        self._failures: list[int] = []
        self._network_errors: list[httpx.TransportError] = []
        self._lose_create = False
        self._ids = itertools.count(1)
        self._clock = _START

    @functools.cached_property
    def app(self) -> Litestar:
        return self._build_app()

    # -- test controls -------------------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        return _Network(self)

    def break_next(self, error: httpx.TransportError) -> None:
        self._network_errors.append(error)

    def fail_next(self, count: int = 1, status_code: int = 500) -> None:
        """The next `count` API calls answer `status_code` without doing anything."""
        self._failures.extend([status_code] * count)

    def heal(self) -> None:
        self._failures.clear()

    def lose_next_create_response(self) -> None:
        """The next create is stored, then answered 504, as when the gateway times out after the work."""
        self._lose_create = True

    def expire_tokens(self) -> None:
        """Every token issued so far stops working: the adapter must log in again."""
        self.tokens.clear()

    def by_reference(self, reference: str) -> FakeOrder:
        return next(order for order in self.orders.values() if order.reference == reference)

    def set_status(self, waybill: str, code: int, *, money_collection: int | None = None) -> dict[str, Any]:
        """Move an order as VTP would and queue the webhook it sends."""
        if code not in STATUSES:
            raise ValueError(f"status {code} is not documented in couriers.md §3.5")
        order = self.orders[waybill]
        order.status = code
        order.history.append(code)
        return self._queue(order, money_collection)

    async def deliver_webhooks(self, client: httpx.AsyncClient, url: str, attempts: int = 1) -> list[dict[str, Any]]:
        """POST each queued webhook as JSON; [G] retries are undocumented, so `attempts` is the test's choice.
        Returns the payloads never taken with HTTP 200."""
        undelivered: list[dict[str, Any]] = []
        while self.pending_webhooks:
            payload = self.pending_webhooks.pop(0)
            for _ in range(attempts):
                try:
                    response = await client.post(url, json=payload, timeout=httpx.Timeout(5.0))
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

    def _queue(self, order: FakeOrder, money_collection: int | None = None) -> dict[str, Any]:
        self._clock += datetime.timedelta(minutes=1)  # its own clock: strictly increasing, deterministic
        money = int(order.fields.get("MONEY_COLLECTION") or 0) if money_collection is None else money_collection
        payload = {
            "DATA": {
                "ORDER_NUMBER": order.waybill,
                "ORDER_REFERENCE": order.reference,
                "ORDER_STATUSDATE": self._clock.strftime(DATE_FORMAT),
                "ORDER_STATUS": order.status,
                "STATUS_NAME": status_text(order.status),
                "LOCALION_CURRENTLY": "Bưu cục Quận 1 - Hồ Chí Minh",
                "NOTE": "",
                "MONEY_COLLECTION": money,
                "MONEY_COLLECTION_ORIGIN": int(order.fields.get("MONEY_COLLECTION") or 0),
                "MONEY_FEECOD": order.price["MONEY_COLLECTION_FEE"],
                "MONEY_TOTALFEE": order.price["MONEY_TOTAL_FEE"],
                "MONEY_TOTAL": order.price["MONEY_TOTAL"],
                "PRODUCT_WEIGHT": order.fields["PRODUCT_WEIGHT"],
                "ORDER_SERVICE": order.fields["ORDER_SERVICE"],
                "ORDER_PAYMENT": order.fields["ORDER_PAYMENT"],
                "EXPECTED_DELIVERY": f"{order.price['KPI_HT']} giờ",
            },
            "TOKEN": self.webhook_token,
        }
        self.pending_webhooks.append(payload)
        return payload

    @staticmethod
    def _ok(data: Any, message: str = "OK") -> Response[Any]:
        return Response(content={"status": 200, "error": False, "message": message, "data": data}, status_code=200)

    @staticmethod
    def _refuse(error: VtpError) -> Response[Any]:
        return Response(content=error.body(), status_code=error.http_status)

    async def _before(self, request: Request[Any, Any, Any]) -> tuple[Any, Response[Any] | None]:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.calls.append(Call(request.method, request.url.path, dict(request.headers), body))
        if self._failures:
            status = self._failures.pop(0)
            return body, self._refuse(VtpError("Hệ thống đang bận, vui lòng thử lại", status, status))
        if request.url.path != "/v2/user/Login" and request.headers.get("token") not in self.tokens:
            return body, self._refuse(_AUTH)
        return body, None

    def _login(self, body: Any) -> Response[Any]:
        given = body if isinstance(body, dict) else {}
        if (given.get("USERNAME"), given.get("PASSWORD")) != (self.username, self.password):
            return self._refuse(VtpError("Tên đăng nhập hoặc mật khẩu không đúng", status=400))
        token = f"vtp-login-{next(self._ids)}"
        self.tokens.add(token)
        return self._ok({"userId": 1001, "token": token, "partner": 0, "phone": "0901112233", "expired": 0})

    def _create(self, body: Any) -> Response[Any]:
        try:
            fields = validate_create(body)
            if any(order.reference == str(fields["ORDER_NUMBER"]) for order in self.orders.values()):
                # [G] §7: whether VTP refuses a number it already has is unconfirmed; this fake does.
                raise VtpError(f"Mã đơn hàng {fields['ORDER_NUMBER']} đã tồn tại")
        except VtpError as error:
            return self._refuse(error)
        waybill = f"1{7_000_000_000 + next(self._ids):011d}"
        order = FakeOrder(waybill, dict(fields), self.initial_status, price(fields), [self.initial_status])
        self.orders[waybill] = order
        if self._lose_create:
            self._lose_create = False
            return Response(content="504 Gateway Time-out", status_code=504, media_type="text/plain")
        return self._ok({"ORDER_NUMBER": waybill, "MONEY_COLLECTION": fields.get("MONEY_COLLECTION", 0), **order.price})

    def _price(self, body: Any) -> Response[Any]:
        try:
            return self._ok(price(validate_price(body)))
        except VtpError as error:
            return self._refuse(error)

    def _update(self, body: Any) -> Response[Any]:
        given = body if isinstance(body, dict) else {}
        kind, waybill = given.get("TYPE"), str(given.get("ORDER_NUMBER", ""))
        if kind not in ACTIONS:
            return self._refuse(VtpError(f"TYPE {kind!r} không hợp lệ"))
        order = self.orders.get(waybill)
        if order is None:
            return self._refuse(VtpError(f"Không tìm thấy vận đơn {waybill}"))
        allowed, target = ACTIONS[kind]
        if kind == 4 and order.status == 107:
            return self._ok(None)  # [G] a repeated cancel: accepted again, nothing changes
        if order.status not in allowed:
            why = status_text(order.status)
            return self._refuse(
                VtpError(f"Vận đơn {waybill} đang ở trạng thái {order.status} ({why}), không thể cập nhật")
            )
        if target is None:
            del self.orders[waybill]
        else:
            self.set_status(waybill, target)  # VTP reports the move by webhook as well
        return self._ok(None)

    def _build_app(self) -> Litestar:
        routes = {
            "/v2/user/Login": self._login,
            "/v2/order/createOrder": self._create,
            "/v2/order/getPrice": self._price,
            "/v2/order/UpdateOrder": self._update,
        }

        def route(path: str) -> Any:
            @post(path, status_code=200, name=path)
            async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
                body, refused = await self._before(request)
                return refused or routes[path](body)

            return handler

        return Litestar(route_handlers=[route(path) for path in routes])
