"""GHN (Giao Hàng Nhanh) adapter: the Courier protocol over GHN's shiip public-api v2 (couriers.md §1)."""

from __future__ import annotations

import unicodedata
from typing import Any, TypeVar

import httpx
import msgspec

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
    TransientCourierError,
)
from couriers.capabilities import CAPABILITIES, Capabilities
from couriers.ghn import payloads, webhook
from couriers.ghn.statuses import status_of
from couriers.limits import CallLimit

# couriers.md §1.1: the live host is the default; the dev host is for tests, set on purpose.
DEV_BASE_URL = "https://dev-online-gateway.ghn.vn/shiip/public-api"
PROD_BASE_URL = "https://online-gateway.ghn.vn/shiip/public-api"
ADDRESS_MODES = ("two_level", "district")
T = TypeVar("T")


class GhnConfig(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    shop_id: int
    shop: Shop
    webhook_secret: str  # the `?token=` of the webhook URL registered with GHN
    base_url: str = PROD_BASE_URL
    # "two_level": 2025 ward and province names (the newer create doc); "district": GHN's district and ward ids
    # from Address.courier_ids, for accounts where GHN still addresses by district.
    address_mode: str = "two_level"
    timeout_s: float = 10.0
    service_type_id: int = 2  # "Hàng nhẹ": light e-commerce parcels, priced on the parcel's weight and size
    # Sources disagree (5, 10 or 50 million VND, couriers.md §1.3 note a); 5 million is GHN's own updateCOD doc.
    cod_limit: int = 5_000_000
    insurance_limit: int = 5_000_000
    dims_cm: tuple[int, int, int] = (20, 15, 10)  # length, width, height of a parcel that carries no size
    # How an address change is sent to shipping-order/update: "ids" (to_district_id + to_ward_code from the address
    # map, the fields GHN-75 documents) or "names" (the create doc's ward and province names; unconfirmed for update).
    update_address: str = "ids"

    def __post_init__(self) -> None:
        if self.address_mode not in ADDRESS_MODES:
            raise ValueError(f"GHN address_mode must be one of {ADDRESS_MODES}, not {self.address_mode!r}")
        if self.update_address not in payloads.UPDATE_ADDRESS_MODES:
            modes = payloads.UPDATE_ADDRESS_MODES
            raise ValueError(f"GHN update_address must be one of {modes}, not {self.update_address!r}")


class _CreatedData(msgspec.Struct):
    order_code: str
    total_fee: int = 0


class _DetailData(msgspec.Struct):
    order_code: str
    status: str
    client_order_code: str | None = None
    cod_amount: int = 0
    to_name: str | None = None
    to_phone: str | None = None
    to_address: str | None = None
    is_partial_return: bool = False
    partial_return_code: str | None = None


class _FeeData(msgspec.Struct):
    total: int


class _LeadtimeData(msgspec.Struct):
    leadtime: int  # unix seconds: when GHN expects to deliver
    order_date: int = 0  # unix seconds: the hand-over the prediction counts from


# GHN's service_type_id -> the service name our quotes show (couriers.md section 1.2).
SERVICE_NAMES = {1: "express", 2: "light", 3: "saving", 5: "heavy"}
DAY_S = 86_400


class _CancelResult(msgspec.Struct):
    order_code: str
    result: bool
    message: str = ""


class GhnCourier:
    """One GHN shop account. Every call carries Token and ShopId and an explicit timeout."""

    name = "ghn"
    capabilities: Capabilities = CAPABILITIES["ghn"]

    def __init__(
        self, config: GhnConfig, client: httpx.AsyncClient | None = None, limit: CallLimit | None = None
    ) -> None:
        self.config = config
        self._limit = limit or CallLimit("GHN")
        self._headers = {"Token": config.token, "ShopId": str(config.shop_id)}
        self._timeout = httpx.Timeout(config.timeout_s)
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            base_url=config.base_url, headers=self._headers, timeout=self._timeout
        )

    async def create(self, parcel: Parcel) -> Created:
        self._check_cod(parcel.cod_amount)
        body = payloads.create_body(self.config, parcel)
        data = await self._post("/v2/shipping-order/create", body)
        created = _convert(data, _CreatedData, "create")
        return Created(tracking_code=created.order_code, fee=created.total_fee)

    async def lookup(self, client_code: str) -> Remote | None:
        try:
            data = await self._post("/v2/shipping-order/detail-by-client-code", {"client_order_code": client_code})
        except PermanentCourierError as exc:
            if _is_not_found(exc):
                return None
            raise
        return _remote(data)

    async def detail(self, tracking_code: str) -> Remote:
        return _remote(await self._post("/v2/shipping-order/detail", {"order_code": tracking_code}))

    async def update_recipient(self, tracking_code: str, parcel: Parcel) -> None:
        body = {"order_code": tracking_code, **payloads.recipient_fields(parcel)}
        await self._post("/v2/shipping-order/update", body)

    async def update_address(self, tracking_code: str, parcel: Parcel) -> None:
        body = {"order_code": tracking_code, **payloads.update_address_fields(self.config, parcel)}
        await self._post("/v2/shipping-order/update", body)

    async def update_cod(self, tracking_code: str, cod_amount: int) -> None:
        self._check_cod(cod_amount)
        await self._post("/v2/shipping-order/updateCOD", {"order_code": tracking_code, "cod_amount": cod_amount})

    async def update_items(self, tracking_code: str, parcel: Parcel) -> None:
        body = {"order_code": tracking_code, **payloads.item_fields(self.config, parcel)}
        await self._post("/v2/shipping-order/update", body)

    async def cancel(self, tracking_code: str) -> None:
        data = await self._post("/v2/switch-status/cancel", {"order_codes": [tracking_code]})
        # A batch endpoint: HTTP 200 even when our order was refused; the verdict is per item.
        results = _convert(data or [], list[_CancelResult], "cancel")
        mine = next((result for result in results if result.order_code == tracking_code), None)
        if mine is None:
            raise TransientCourierError(f"GHN cancel answered without order {tracking_code}")
        if mine.result:
            return
        # A retried cancel whose first answer was lost is refused as an invalid status: it is already done.
        if (await self.detail(tracking_code)).raw_status == "cancel":
            return
        raise PermanentCourierError(mine.message or f"GHN refused to cancel {tracking_code}", status_code=200)

    async def quote(self, origin_province: int, parcel: Parcel) -> Quote:
        # GHN prices from the shop's store (the ShopId header); origin_province is where that store is.
        body = payloads.fee_body(self.config, parcel)
        fee = _convert(await self._post("/v2/shipping-order/fee", body), _FeeData, "fee").total
        # The lead time takes the same route and service (couriers.md section 1.2), not the money fields.
        route = {key: value for key, value in body.items() if key.startswith(("from_", "to_", "service_"))}
        lead = _convert(await self._post("/v2/shipping-order/leadtime", route), _LeadtimeData, "leadtime")
        service = SERVICE_NAMES.get(self.config.service_type_id, f"service_type_{self.config.service_type_id}")
        return Quote(courier=self.name, service=service, fee=fee, expected_delivery=_days(lead))

    def parse_webhook(self, request: Request) -> list[Event]:
        return webhook.parse(request, secret=self.config.webhook_secret, shop_id=self.config.shop_id)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def _check_cod(self, cod_amount: int) -> None:
        # GHN would refuse it too; refusing here names the limit instead of a generic validation message.
        if not 0 <= cod_amount <= self.config.cod_limit:
            raise PermanentCourierError(
                f"COD {cod_amount} VND is outside GHN's limit of {self.config.cod_limit} VND", code="GHN_COD_LIMIT"
            )

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        # An absolute URL, so that a shared client without our base_url works too.
        url = self.config.base_url.rstrip("/") + path
        try:
            async with self._limit.call(path, self.config.timeout_s):
                response = await self._client.post(url, json=body, headers=self._headers, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise TransientCourierError(f"GHN {path} timed out after {self.config.timeout_s}s") from exc
        except httpx.TransportError as exc:
            raise TransientCourierError(f"GHN {path} unreachable: {exc!r}") from exc
        return _unwrap(path, response)


def _unwrap(path: str, response: httpx.Response) -> Any:
    """GHN's envelope `{code, message, data}` (+ `code_message` on errors) to data or a Courier error."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    envelope: dict[str, Any] = payload if isinstance(payload, dict) else {}
    status = response.status_code
    message = str(envelope.get("message") or response.text[:200] or response.reason_phrase)
    code = envelope.get("code_message")
    code = str(code) if code is not None else None
    if status == 429 or status >= 500:
        raise TransientCourierError(f"GHN {path}: HTTP {status} {message}", code=code, status_code=status)
    if status >= 400:
        raise PermanentCourierError(message, code=code, status_code=status)
    if "code" not in envelope:
        # A 2xx without GHN's envelope came from something in between: whether GHN acted is unknown.
        raise TransientCourierError(f"GHN {path}: HTTP {status} without GHN's envelope", status_code=status)
    if envelope["code"] != 200:
        raise PermanentCourierError(message, code=code, status_code=status)
    return envelope.get("data")


def _convert(data: Any, kind: type[T], what: str) -> T:
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        # GHN said success but the data is not what we read: treat the outcome as unknown (look up, retry).
        raise TransientCourierError(f"GHN {what} answered unexpected data: {exc}") from exc


def _days(lead: _LeadtimeData) -> ExpectedDelivery | None:
    """GHN predicts one moment: whole days after the order date, counted up (a part-day is a day)."""
    if lead.order_date <= 0 or lead.leadtime < lead.order_date:
        return None  # no usable prediction: the quote still stands, without a lead time
    days = max(1, -(-(lead.leadtime - lead.order_date) // DAY_S))
    return ExpectedDelivery(min_days=days, max_days=days)


def _is_not_found(exc: PermanentCourierError) -> bool:
    # "Lỗi gọi API: corev2_tenant_order_detail - code=404, message=Đơn hàng không tồn tại" (couriers.md §1.1)
    message = unicodedata.normalize("NFC", exc.message).lower()
    return "không tồn tại" in message or "code=404" in message


def _remote(data: Any) -> Remote:
    detail = _convert(data, _DetailData, "detail")
    status = status_of(detail.status, partial=detail.is_partial_return)
    if status is None:
        raise PermanentCourierError(f"GHN order {detail.order_code} has an unknown status {detail.status!r}")
    return Remote(
        tracking_code=detail.order_code,
        client_code=detail.client_order_code or "",
        status=status,
        raw_status=detail.status,
        cod_amount=detail.cod_amount,
        recipient_name=detail.to_name,
        phones=(payloads.e164_phone(detail.to_phone),) if detail.to_phone else (),
        address_line=detail.to_address,
        return_code=detail.partial_return_code or None,
    )
