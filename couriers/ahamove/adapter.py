"""The Ahamove adapter: the Courier protocol over Ahamove's partner API (couriers.md §5), same day in one city.

v3 (Bearer token) creates, prices, reads and amends; the documented cancel is v1's (`token` query parameter).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote as quote_path

import httpx
import msgspec

from couriers.ahamove import payloads, webhook
from couriers.ahamove.statuses import ORDER, raw_status, status_of
from couriers.base import (
    Created,
    Event,
    ExpectedDelivery,
    Parcel,
    PermanentCourierError,
    Quote,
    Remote,
    Request,
    Shop,
    Status,
    TransientCourierError,
)
from couriers.capabilities import CAPABILITIES, Capabilities
from couriers.limits import CallLimit

# couriers.md §5: the v3 staging host is documented; the live one is presumed [G]. v1 has both.
V3_PRODUCTION = "https://partner-api.ahamove.com"
V3_STAGING = "https://partner-apistg.ahamove.com"
V1_PRODUCTION = "https://api.ahamove.com"
V1_STAGING = "https://apistg.ahamove.com"
# The cities Ahamove serves same day from a shop, by our 2025 province code: Hồ Chí Minh (SGN) and Hà Nội (HAN).
SERVICES = {79: "SGN-BIKE", 1: "HAN-BIKE"}


class AhamoveConfig(msgspec.Struct, frozen=True, kw_only=True):
    token: str  # from onboarding; valid a year (§5)
    shop: Shop
    webhook_secret: str  # what the registered auth header carries (for basic: `user:password`)
    webhook_auth: str = "apikey"  # apikey | bearer | basic, as registered with Ahamove
    webhook_header: str = "apikey"  # [G] the header name of the apikey method
    base_url: str = V3_PRODUCTION
    v1_base_url: str = V1_PRODUCTION
    # Province code -> service_id. Only cities listed are served; a parcel leaves and arrives in the same one.
    services: Mapping[int, str] = msgspec.field(default_factory=lambda: dict(SERVICES))
    cancel_code: str = "OTHER"  # [G] §5: required when the order is ACCEPTED; its values are not documented
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.webhook_auth not in webhook.AUTH_METHODS:
            raise ValueError(f"Ahamove webhook_auth must be one of {webhook.AUTH_METHODS}, not {self.webhook_auth!r}")
        if not self.services:
            raise ValueError("Ahamove needs at least one city (province:service_id)")


def parse_services(text: str) -> dict[int, str]:
    """`79:SGN-BIKE,1:HAN-BIKE` -> {79: "SGN-BIKE", 1: "HAN-BIKE"}; ValueError naming what is wrong."""
    found: dict[int, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        province, _, service = part.partition(":")
        if not province.strip().isdigit() or not service.strip():
            raise ValueError(f"Ahamove services must read province:service_id, not {part!r}")
        found[int(province)] = service.strip()
    return found


class AhamoveCourier:
    """One Ahamove account. Every call has an explicit timeout; errors are sorted into transient and permanent."""

    name = "ahamove"
    capabilities: Capabilities = CAPABILITIES["ahamove"]

    def __init__(
        self, config: AhamoveConfig, client: httpx.AsyncClient | None = None, limit: CallLimit | None = None
    ) -> None:
        self.config = config
        self._limit = limit or CallLimit("AHAMOVE")
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._timeout = httpx.Timeout(config.timeout_s)

    def _service(self, parcel: Parcel) -> str:
        """The service for the shop's city, once the parcel is known to stay in it (Ahamove's service area)."""
        shop, to = self.config.shop.address, parcel.address
        service = self.config.services.get(shop.province_code)
        if service is None:
            raise PermanentCourierError(
                f"Ahamove is configured for provinces {sorted(self.config.services)}, not the shop's "
                f"{shop.province_name} ({shop.province_code})"
            )
        if to.province_code != shop.province_code:
            raise PermanentCourierError(
                f"Ahamove delivers same day within {shop.province_name} only, not to {to.province_name}"
            )
        return service

    async def _call(
        self, method: str, url: str, *, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> Any:
        path = url.split("?", 1)[0]
        headers = {"Authorization": f"Bearer {self.config.token}", "Accept": "application/json"}
        try:
            async with self._limit.call(f"{method} {path}", self.config.timeout_s):
                response = await self._client.request(
                    method, url, json=body, params=params, headers=headers, timeout=self._timeout
                )
        except httpx.TimeoutException as exc:
            raise TransientCourierError(f"Ahamove did not answer {method} {path} in time: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TransientCourierError(f"Ahamove unreachable for {method} {path}: {exc!r}") from exc
        return _answer(path, response)

    def _v3(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    async def create(self, parcel: Parcel) -> Created:
        body = payloads.create_body(parcel, self.config.shop, self._service(parcel))
        data = await self._call("POST", self._v3("/v3/orders"), body=body)
        if not isinstance(data, dict) or not data.get("order_id"):
            raise TransientCourierError(f"Ahamove accepted {parcel.client_code} but returned no order_id")
        order = data["order"] if isinstance(data.get("order"), dict) else {}
        return Created(tracking_code=str(data["order_id"]), fee=_money(order.get("total_pay")))

    async def lookup(self, client_code: str) -> Remote | None:
        # §7: Ahamove documents no lookup by tracking_number (whose uniqueness is unknown either). A create whose
        # answer was lost is sent again; the lost one, if it landed, is left for staff (its webhooks name it).
        return None

    async def detail(self, tracking_code: str) -> Remote:
        # [G] GET /v3/orders/{id}: not in the sources read (§5); its answer is taken to be the webhook's order.
        data = await self._call("GET", self._v3(f"/v3/orders/{quote_path(tracking_code, safe='')}"))
        return _remote(data)

    async def update_recipient(self, tracking_code: str, parcel: Parcel) -> None:
        await self._patch(tracking_code, payloads.recipient_patch(parcel))

    async def update_address(self, tracking_code: str, parcel: Parcel) -> None:
        self._onwheel("address")
        self._service(parcel)  # a new address outside the city is refused here, with the reason
        await self._patch(tracking_code, payloads.address_patch(parcel))

    async def update_cod(self, tracking_code: str, cod_amount: int) -> None:
        self._onwheel("COD")
        await self._patch(tracking_code, {"path_index": payloads.DROP, "cod": cod_amount})

    async def update_items(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"Ahamove cannot change the items of an order ({tracking_code}) once created")

    async def cancel(self, tracking_code: str) -> None:
        params = {
            "token": self.config.token,
            "order_id": tracking_code,
            "comment": "Shop hủy đơn",
            "cancel_code": self.config.cancel_code,
        }
        url = self.config.v1_base_url.rstrip("/") + "/v1/order/cancel"
        try:
            await self._call("GET", url, params=params)
        except PermanentCourierError as refused:
            # 406 for an order not in a cancellable status: one already cancelled (a retry after a lost answer)
            # is what was asked for. A read that fails leaves Ahamove's refusal as the answer.
            if refused.status_code == 406 and await self._cancelled(tracking_code):
                return
            raise

    async def _cancelled(self, tracking_code: str) -> bool:
        try:
            return (await self.detail(tracking_code)).status is Status.CANCELLED
        except PermanentCourierError:
            return False

    async def quote(self, origin_province: int, parcel: Parcel) -> Quote:
        if origin_province != self.config.shop.address.province_code:
            raise PermanentCourierError(
                f"Ahamove picks up at the shop in {self.config.shop.address.province_code}, not {origin_province}"
            )
        service = self._service(parcel)
        body = payloads.estimate_body(parcel, self.config.shop, service)
        data = await self._call("POST", self._v3("/v3/orders/estimates"), body=body)
        # [G] one entry per service asked: {service_id, data: {total_pay, distance, duration}} or {error}.
        found = next((e for e in data or [] if isinstance(e, dict) and e.get("service_id") == service), None)
        if found is None or not isinstance(found.get("data"), dict):
            why = (found or {}).get("error") or "no estimate"
            raise PermanentCourierError(f"Ahamove gave no price for {service}: {why}")
        # On-demand within the city: delivered the day it is handed over.
        same_day = ExpectedDelivery(min_days=0, max_days=0)
        return Quote(
            courier=self.name, service=service, fee=_money(found["data"].get("total_pay")), expected_delivery=same_day
        )

    def parse_webhook(self, request: Request) -> list[Event]:
        c = self.config
        return webhook.parse(request, method=c.webhook_auth, secret=c.webhook_secret, header=c.webhook_header)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def _onwheel(self, what: str) -> None:
        # §5: COD and address change only on OnWheel services; the others would refuse, less clearly.
        service = self.config.services.get(self.config.shop.address.province_code, "")
        if not service.startswith(payloads.ONWHEEL_PREFIX):
            raise PermanentCourierError(
                f"Ahamove changes the {what} only on its OnWheel service ({payloads.ONWHEEL_PREFIX}...), not {service}"
            )

    async def _patch(self, tracking_code: str, body: dict[str, Any]) -> None:
        await self._call("PATCH", self._v3(f"/v3/orders/{quote_path(tracking_code, safe='')}"), body=body)


def _money(value: object) -> int:
    try:
        return int(float(str(value))) if value not in (None, "") else 0
    except ValueError:
        raise PermanentCourierError(f"Ahamove sent a non-numeric amount {value!r}") from None


def _answer(path: str, response: httpx.Response) -> Any:
    """The JSON of a 2xx; a Courier error otherwise. [G] errors carry `code`, `title` and `description` (§5 names
    NOT_AUTHORIZED and TOKEN_NOT_FOUND); cancel's are 402, 404 and 406."""
    try:
        data = response.json()
    except ValueError:
        data = None
    status = response.status_code
    envelope = data if isinstance(data, dict) else {}
    message = str(envelope.get("description") or envelope.get("title") or envelope.get("message") or "")
    message = message or response.reason_phrase or "no message"
    code = envelope.get("code")
    code = None if code is None else str(code)
    if status == 429 or status >= 500:
        raise TransientCourierError(f"Ahamove {path}: HTTP {status} {message}", code=code, status_code=status)
    if status >= 400:
        raise PermanentCourierError(f"Ahamove: {message}", code=code, status_code=status)
    if data is None:
        raise TransientCourierError(f"Ahamove {path}: HTTP {status} without JSON", status_code=status)
    return data


def _remote(data: Any) -> Remote:
    if not isinstance(data, dict) or not data.get("_id") or str(data.get("status", "")).upper() not in ORDER:
        raise PermanentCourierError("Ahamove order answer without a known _id and status")
    path = data["path"] if isinstance(data.get("path"), list) else []
    drop = path[1] if len(path) > 1 and isinstance(path[1], dict) else {}
    status = status_of(str(data["status"]), drop.get("status"))
    if status is None:  # unreachable: the order status is known, and a point status only refines it
        raise PermanentCourierError(f"Ahamove order {data['_id']} has an unknown status {data['status']!r}")
    mobile = str(drop.get("mobile") or "")
    return Remote(
        tracking_code=str(data["_id"]),
        client_code=str(drop.get("tracking_number") or ""),
        status=status,
        raw_status=raw_status(str(data["status"]), drop.get("status")),
        cod_amount=_money(drop.get("cod")),
        recipient_name=drop.get("name"),
        phones=(payloads.e164(mobile),) if mobile else (),
        address_line=drop.get("address"),
    )
