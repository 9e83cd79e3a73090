"""The GHTK (Giao Hàng Tiết Kiệm) adapter: the Courier protocol over GHTK's OPEN_API (couriers.md §2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as quote_path

import httpx
from msgspec import Struct

from couriers.base import (
    Created,
    Event,
    Parcel,
    PermanentCourierError,
    Quote,
    Remote,
    Request,
    Shop,
    TransientCourierError,
)
from couriers.capabilities import CAPABILITIES, Capabilities
from couriers.ghtk import webhook
from couriers.ghtk.payloads import (
    NO_AMEND,
    TRY_ON_TAG,
    as_int,
    create_body,
    district_name,
    e164,
    first_error_text,
    remote_status,
)
from couriers.limits import CallLimit

# couriers.md §2.1: the live OPEN_API host is the default; staging is for tests, set on purpose.
PRODUCTION = "https://services.giaohangtietkiem.vn"
STAGING = "https://services-staging.ghtklab.com"
ADDRESS_MODES = ("two_level", "district")
# §2.4: the only documented answer to cancelling a cancelled order; a cancel retried after a lost answer gets it.
_ALREADY_CANCELLED = "trạng thái hủy"


class GhtkConfig(Struct, frozen=True, kw_only=True):
    token: str
    partner_code: str  # sent as X-Client-Source
    shop: Shop
    webhook_secret: str  # the `?hash=` value in the callback URL registered with GHTK
    base_url: str = PRODUCTION
    # GHTK takes names. "two_level": province + ward after the 2025 reform, no district; "district": also the
    # pre-reform district name from the address's courier_ids["district_name"], for when GHTK still needs it.
    address_mode: str = "two_level"  # two_level | district
    timeout_s: float = 10.0
    transport: str = "road"  # road | fly; not checked here, so that GHTK's own refusal (30104) reaches the caller

    def __post_init__(self) -> None:
        # Settings arrive as plain strings and msgspec does not check types on construction: a typo would
        # otherwise silently mean two_level.
        if self.address_mode not in ADDRESS_MODES:
            raise ValueError(f"GHTK address_mode must be one of {ADDRESS_MODES}, not {self.address_mode!r}")


class GhtkCourier:
    """One GHTK shop account. Every call has an explicit timeout; errors are sorted into transient and permanent."""

    name = "ghtk"
    capabilities: Capabilities = CAPABILITIES["ghtk"]

    def __init__(
        self, config: GhtkConfig, client: httpx.AsyncClient | None = None, limit: CallLimit | None = None
    ) -> None:
        self.config = config
        self._limit = limit or CallLimit("GHTK")
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._timeout = httpx.Timeout(config.timeout_s)
        self._headers = {"Token": config.token, "X-Client-Source": config.partner_code, "Accept": "application/json"}

    async def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """The status code and JSON envelope of a call. Raises where a retry may help; a 4xx is returned to be read."""
        url = self.config.base_url.rstrip("/") + path
        try:
            async with self._limit.call(f"{method} {path}", self.config.timeout_s):
                response = await self._client.request(
                    method, url, params=params, json=body, headers=self._headers, timeout=self._timeout
                )
        except httpx.TimeoutException as exc:
            raise TransientCourierError(f"GHTK did not answer {method} {path} in time: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TransientCourierError(f"GHTK unreachable for {method} {path}: {exc!r}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        envelope: dict[str, Any] = data if isinstance(data, dict) else {}
        message = str(envelope.get("message") or response.reason_phrase or "no message")
        code = envelope.get("error_code")
        code = None if code is None else str(code)
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientCourierError(f"GHTK {status}: {message}", code=code, status_code=status)
        if status >= 400:
            return status, envelope
        if not envelope:
            # A 2xx that is not GHTK's JSON comes from something in between (a proxy's maintenance page).
            raise TransientCourierError(f"GHTK {status} without a JSON body", status_code=status)
        return status, envelope

    async def _ok(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        status, envelope = await self._call(method, path, params=params, body=body)
        if status >= 400 or envelope.get("success") is not True:
            raise _refusal(status, envelope)
        return envelope

    async def create(self, parcel: Parcel) -> Created:
        config = self.config
        body = create_body(parcel, config.shop, address_mode=config.address_mode, transport=config.transport)
        envelope = await self._ok("POST", "/services/shipment/order/", params={"ver": "1.5"}, body=body)
        order = envelope.get("order")
        if not isinstance(order, dict) or not order.get("label"):
            raise PermanentCourierError(f"GHTK accepted order {parcel.client_code} but returned no label")
        return Created(tracking_code=str(order["label"]), fee=_total_fee(order))

    async def lookup(self, client_code: str) -> Remote | None:
        status, envelope = await self._call(
            "GET", f"/services/shipment/v2/partner_id:{quote_path(client_code, safe='')}"
        )
        # [G] §2.7: the not-found body is undocumented; a 404, or a 200 with success=false, means "no such order".
        if status == 404 or (status < 400 and envelope.get("success") is False):
            return None
        if status >= 400 or envelope.get("success") is not True:
            raise _refusal(status, envelope)
        return _remote(envelope)

    async def detail(self, tracking_code: str) -> Remote:
        envelope = await self._ok("GET", f"/services/shipment/v2/{quote_path(tracking_code, safe='')}")
        return _remote(envelope)

    async def update_recipient(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the recipient of {tracking_code}")

    async def update_address(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the address of {tracking_code}")

    async def update_cod(self, tracking_code: str, cod_amount: int) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the COD of {tracking_code}")

    async def update_items(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the items of {tracking_code}")

    async def cancel(self, tracking_code: str) -> None:
        status, envelope = await self._call("POST", f"/services/shipment/cancel/{quote_path(tracking_code, safe='')}")
        if status < 400 and envelope.get("success") is True:
            return
        if _ALREADY_CANCELLED in str(envelope.get("message", "")):
            return  # cancel is idempotent for us: the order is cancelled, which is what was asked
        raise _refusal(status, envelope)

    async def quote(self, origin_province: int, parcel: Parcel) -> Quote:
        shop = self.config.shop.address
        if origin_province != shop.province_code:
            # GHTK quotes by names and this account only knows its shop's pickup address.
            raise PermanentCourierError(
                f"GHTK quotes from the shop's pickup province {shop.province_code}, not {origin_province}"
            )
        params: dict[str, Any] = {
            "pick_province": shop.province_name,
            "pick_ward": shop.ward_name,
            "pick_address": shop.line,
            "province": parcel.address.province_name,
            "ward": parcel.address.ward_name,
            "address": parcel.address.line,
            "weight": parcel.weight_g,  # §2.3: grams here, unlike create's kilograms
            "value": parcel.value,
            "transport": self.config.transport,
            "deliver_option": "none",
        }
        if parcel.try_on:
            params["tags[]"] = [TRY_ON_TAG]  # §2.3: tags change the price (§2.2's partial-delivery surcharge)
        if self.config.address_mode == "district":
            params["pick_district"] = district_name(shop, "shop")
            params["district"] = district_name(parcel.address, "recipient")
        envelope = await self._ok("GET", "/services/shipment/fee", params=params)
        fee = envelope.get("fee")
        if not isinstance(fee, dict):
            raise PermanentCourierError("GHTK fee answer without `fee`")
        if fee.get("delivery") is False:
            raise PermanentCourierError(
                f"GHTK does not deliver to {parcel.address.ward_name}, {parcel.address.province_name}"
            )
        # §2.3's answer has no lead time (that is /services/shipment/pick-time, not asked here): none is promised.
        return Quote(courier=self.name, service=self.config.transport, fee=_total_fee(fee))

    def parse_webhook(self, request: Request) -> list[Event]:
        return webhook.parse(request, self.config.webhook_secret)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _refusal(status: int, envelope: dict[str, Any]) -> PermanentCourierError:
    code = envelope.get("error_code")
    return PermanentCourierError(
        first_error_text(envelope), code=None if code is None else str(code), status_code=status
    )


def _total_fee(money: dict[str, Any]) -> int:
    # What the shop pays GHTK for the parcel: shipping plus insurance on the declared value (like GHN's total_fee).
    return as_int(money.get("fee")) + as_int(money.get("insurance_fee"))


def _remote(envelope: dict[str, Any]) -> Remote:
    order = envelope.get("order")
    if not isinstance(order, dict) or not order.get("label_id"):
        raise PermanentCourierError("GHTK status answer without an order")
    raw_status = str(order.get("status", ""))
    tel = str(order.get("customer_tel") or "")
    return Remote(
        tracking_code=str(order["label_id"]),
        client_code=str(order.get("partner_id") or ""),
        status=remote_status(raw_status),
        raw_status=raw_status,
        cod_amount=as_int(order.get("pick_money")),
        recipient_name=order.get("customer_fullname"),
        phones=(e164(tel),) if tel else (),
        address_line=order.get("address"),
    )
