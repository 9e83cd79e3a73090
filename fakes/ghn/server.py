"""A fake GHN gateway for tests: the documented contract (couriers.md §1, §9) as a Litestar ASGI app."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import msgspec
from litestar import Litestar, Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from fakes.ghn.orders import FakeOrder, GhnError, OrderBook

PREFIX = "/shiip/public-api"
Operation = Callable[[int | None, dict[str, Any]], Any]


@dataclass(frozen=True)
class Delivery:
    """One webhook as deliver_webhooks sent it: how many POSTs it took, and whether one got HTTP 200."""

    payload: dict[str, Any]
    attempts: int
    delivered: bool


class FakeGhn:
    """GHN's orders for one token, with the controls a test needs to drive statuses and failures."""

    def __init__(
        self,
        *,
        token: str = "fake-ghn-token",
        shop_id: int = 885_001,
        require_district: bool = False,  # the legacy-only switch of couriers.md §6: a missing district is refused
        cod_limit: int = 5_000_000,
        insurance_limit: int = 5_000_000,
        max_weight_g: int = 50_000,
        store_province: str = "Hồ Chí Minh",  # where the shop's registered store is, for the fee zone
        store_district_id: int = 1442,
        clock: Callable[[], datetime.datetime] | None = None,
        recipient_changes: int | None = 2,  # GHN's FAQ limits (couriers.md §1.5), see OrderBook; None switches off
        recipient_fields: int | None = None,
        update_takes_names: bool = False,  # whether shipping-order/update applies to_ward_name/to_province_name
    ) -> None:
        self.token = token
        self.shop_ids = {shop_id}
        self.book = OrderBook(
            require_district=require_district,
            cod_limit=cod_limit,
            insurance_limit=insurance_limit,
            max_weight_g=max_weight_g,
            store_province=store_province,
            store_district_id=store_district_id,
            clock=clock or (lambda: datetime.datetime.now(datetime.UTC)),
            recipient_changes=recipient_changes,
            recipient_fields=recipient_fields,
            update_takes_names=update_takes_names,
        )
        self.calls: list[tuple[str, dict[str, str], Any]] = []  # (path below PREFIX, lower-case headers, JSON)
        self._failures: list[int] = []
        self._lose_create = False
        # path -> (needs a shop, operation); ShopId is optional elsewhere, as GHN's docs show only Token there.
        self._routes: dict[str, tuple[bool, Operation]] = {
            "/v2/shipping-order/create": (True, self._create),
            "/v2/shipping-order/detail": (False, self.book.detail),
            "/v2/shipping-order/detail-by-client-code": (False, self.book.detail_by_client_code),
            "/v2/shipping-order/update": (True, self.book.update),
            "/v2/shipping-order/updateCOD": (False, self.book.update_cod),
            "/v2/switch-status/cancel": (True, self.book.cancel),
            "/v2/shipping-order/fee": (True, self.book.fee),
            "/v2/shipping-order/leadtime": (True, self.book.leadtime),
        }
        self.app = Litestar(route_handlers=[self._gateway()], openapi_config=None)

    @property
    def orders(self) -> dict[str, FakeOrder]:
        return self.book.orders

    @property
    def pending_webhooks(self) -> list[dict[str, Any]]:
        return self.book.webhooks

    def set_status(self, order_code: str, status: str, *, partial: bool = False, cod: int | None = None) -> None:
        """Move an order to a GHN status and queue the webhook GHN would send (`cod` overrides CODAmount)."""
        self.book.set_status(order_code, status, partial=partial, cod=cod)

    def fail_next(self, count: int = 1, status_code: int = 500) -> None:
        """The next `count` calls answer `status_code` before reaching GHN's logic, as a failing gateway does."""
        self._failures.extend([status_code] * count)

    def lose_next_create_response(self) -> None:
        """The next create is processed, then answered 504: the order exists but the caller never hears of it."""
        self._lose_create = True

    async def deliver_webhooks(
        self, client: httpx.AsyncClient, url: str, attempts: int = 10, interval_s: float = 5.0
    ) -> list[Delivery]:
        """POST the queued webhooks as GHN does: JSON, retried `attempts` times `interval_s` apart until HTTP 200."""
        deliveries = []
        while self.book.webhooks:
            payload = self.book.webhooks.pop(0)
            tries, delivered = 0, False
            while not delivered and tries < attempts:
                if tries:
                    await anyio.sleep(interval_s)
                tries += 1
                try:
                    delivered = (await client.post(url, json=payload, timeout=10.0)).status_code == 200
                except httpx.HTTPError:
                    delivered = False
            # After the last attempt GHN gives up: the webhook is dropped, as it would be in production.
            deliveries.append(Delivery(payload, tries, delivered))
        return deliveries

    def _gateway(self) -> HTTPRouteHandler:
        @post(f"{PREFIX}/{{path:path}}")
        async def gateway(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[Any]:
            status, content = self._handle(path, dict(request.headers), await request.body())
            if isinstance(content, str):
                return Response(content, status_code=status, media_type="text/html")
            return Response(content, status_code=status)

        return gateway

    def _handle(self, path: str, raw_headers: Mapping[str, str], raw_body: bytes) -> tuple[int, Any]:
        headers = {name.lower(): value for name, value in raw_headers.items()}
        try:
            body = msgspec.json.decode(raw_body) if raw_body else {}
        except msgspec.DecodeError:
            body = None
        self.calls.append((path, headers, body))
        if self._failures:
            status = self._failures.pop(0)
            return status, {"code": status, "message": "Internal Server Error", "data": None}
        try:
            if headers.get("token") != self.token:
                raise GhnError("Token không hợp lệ", status_code=401, code_message="USER_ERR_AUTHORIZED")
            route = self._routes.get(path)
            if route is None:
                raise GhnError(f"Không tìm thấy API {path}", status_code=404, code_message="NOT_FOUND")
            if not isinstance(body, dict):
                raise GhnError("Dữ liệu gửi lên không phải JSON object")
            needs_shop, operation = route
            data = operation(self._shop(headers, required=needs_shop), body)
        except GhnError as exc:
            error = {"code": exc.status_code, "message": exc.message, "data": None, "code_message": exc.code_message}
            return exc.status_code, error
        if path.endswith("/create") and self._lose_create:
            self._lose_create = False
            return 504, "<html><body><h1>504 Gateway Time-out</h1></body></html>"
        return 200, {"code": 200, "message": "Success", "data": data}

    def _shop(self, headers: Mapping[str, str], *, required: bool) -> int | None:
        # Docs and SDKs spell it ShopId, ShopID and shop_id; header names are case-insensitive (couriers.md §1.1).
        raw = headers.get("shopid", headers.get("shop_id"))
        if raw is None and not required:
            return None
        try:
            shop_id = int(raw or "")
        except ValueError:
            shop_id = None
        if shop_id not in self.shop_ids:
            raise GhnError(f"ShopID is invalid: {raw}", code_message="SHOP_NOT_FOUND")
        return shop_id

    def _create(self, shop_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        assert shop_id is not None  # create is a shop-scoped route
        return self.book.create(shop_id, body)
