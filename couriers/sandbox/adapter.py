"""The Courier adapter for the sandbox courier's HTTP API, and verification of its Standard Webhooks."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import msgspec
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from couriers.base import (
    Created,
    Event,
    ExpectedDelivery,
    KeptItem,
    Parcel,
    PermanentCourierError,
    Quote,
    Remote,
    Request,
    Status,
    TransientCourierError,
    WebhookRejected,
    out_of_range,
)
from couriers.capabilities import CAPABILITIES
from couriers.limits import CallLimit
from couriers.sandbox.schemas import AddressIn, CreatedOut, ItemIn, QuoteOut, Shipment, WebhookPayload

EVENT_TYPE = "shipment.status"
T = TypeVar("T")
_STATUSES = {status.value: status for status in Status}  # the sandbox speaks our ladder's words
# Who pays the shipping fee -> what the sandbox is sent besides `cod_amount` (always our COD, exactly). The sandbox
# collects exactly cod_amount and bills its fee to the shop whoever pays it; `fee_payer` only records who does.
FEE_FIELDS: dict[str, dict[str, str]] = {"customer": {"fee_payer": "customer"}, "shop": {"fee_payer": "shop"}}


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class SandboxConfig:
    base_url: str  # e.g. "http://127.0.0.1:8000/sandbox-courier"
    token: str
    webhook_secret: str
    origin_province: int  # the shop's warehouse, where fees are counted from
    timeout_s: float = 10.0


class SandboxCourier:
    name = "sandbox"
    capabilities = CAPABILITIES["sandbox"]

    def __init__(
        self, config: SandboxConfig, client: httpx.AsyncClient | None = None, limit: CallLimit | None = None
    ) -> None:
        self._limit = limit or CallLimit("sandbox")
        self.config = config
        self._base = config.base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {config.token}", "accept": "application/json"}
        # Passed on every call, so that an injected client gets the same bounds as our own.
        self._timeout = httpx.Timeout(config.timeout_s, connect=min(5.0, config.timeout_s))
        self._client = client or httpx.AsyncClient(timeout=self._timeout)
        self._owns_client = client is None
        self._verifier = Webhook(config.webhook_secret)

    async def create(self, parcel: Parcel) -> Created:
        body = _parcel_body(parcel) | {
            "client_code": parcel.client_code,
            "origin_province": self.config.origin_province,
        }
        created = await self._call("POST", "/shipments", CreatedOut, json=body)
        return Created(tracking_code=created.tracking_code, fee=created.fee, status=_status(created.status))

    async def lookup(self, client_code: str) -> Remote | None:
        try:
            shipment = await self._call("GET", "/shipments", Shipment, params={"client_code": client_code})
        except PermanentCourierError as exc:
            if exc.status_code == 404:
                return None
            raise
        return _remote(shipment)

    async def detail(self, tracking_code: str) -> Remote:
        return _remote(await self._call("GET", f"/shipments/{tracking_code}", Shipment))

    async def update_recipient(self, tracking_code: str, parcel: Parcel) -> None:
        body = _parcel_body(parcel)
        await self._patch(tracking_code, {k: body[k] for k in ("recipient_name", "phones")})

    async def update_address(self, tracking_code: str, parcel: Parcel) -> None:
        await self._patch(tracking_code, {"address": _parcel_body(parcel)["address"]})

    async def update_cod(self, tracking_code: str, cod_amount: int) -> None:
        await self._patch(tracking_code, {"cod_amount": cod_amount})

    async def update_items(self, tracking_code: str, parcel: Parcel) -> None:
        await self._patch(tracking_code, {"items": _parcel_body(parcel)["items"]})

    async def cancel(self, tracking_code: str) -> None:
        await self._call("POST", f"/shipments/{tracking_code}/cancel", Shipment)

    async def quote(self, origin_province: int, parcel: Parcel) -> Quote:
        body = {"origin_province": origin_province, "province_code": parcel.address.province_code}
        quoted = await self._call("POST", "/quote", QuoteOut, json=body | {"weight_g": parcel.weight_g})
        expected = None
        if quoted.min_days is not None and quoted.max_days is not None:
            expected = ExpectedDelivery(min_days=quoted.min_days, max_days=quoted.max_days)
        return Quote(courier=self.name, service=quoted.service, fee=quoted.fee, expected_delivery=expected)

    def parse_webhook(self, request: Request) -> list[Event]:
        try:
            # Verified against the raw bytes: re-encoding parsed JSON would not reproduce the signed text.
            self._verifier.verify(request.body, dict(request.headers), json_parse=False)
        # The library lets malformed headers and bodies escape as ValueError (bad base64, no "v1," prefix, bytes
        # that are not UTF-8); they are as unverified as a wrong signature.
        except (WebhookVerificationError, ValueError) as exc:
            raise WebhookRejected(f"sandbox webhook not verified: {exc}") from exc
        try:
            payload = msgspec.json.decode(request.body, type=WebhookPayload)
        except msgspec.ValidationError as exc:  # signed, but a number out of range (cod_collected 10^25)
            raise out_of_range(exc) or WebhookRejected(f"sandbox webhook malformed: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise WebhookRejected(f"sandbox webhook malformed: {exc}") from exc
        event_key = {k.lower(): v for k, v in request.headers.items()}["webhook-id"]
        if payload.type != EVENT_TYPE or payload.id != event_key or payload.status not in _STATUSES:
            raise WebhookRejected(f"sandbox webhook not understood: {payload.type} {payload.status}")
        kept = None
        if payload.kept is not None:
            kept = tuple(KeptItem(sku=k.sku, quantity=k.quantity, size=k.size, color=k.color) for k in payload.kept)
        status = _STATUSES[payload.status]
        return [
            Event(
                courier=self.name,
                event_key=event_key,
                tracking_code=payload.tracking_code,
                client_code=payload.client_code,
                status=status,
                raw_status=payload.status,
                occurred_at=payload.occurred_at,
                kept=kept,
                cod_collected=payload.cod_collected,
                partial=status is Status.PARTIALLY_DELIVERED,
            )
        ]

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _patch(self, tracking_code: str, body: dict[str, Any]) -> None:
        await self._call("PATCH", f"/shipments/{tracking_code}", Shipment, json=body)

    async def _call(self, method: str, path: str, answer: type[T], **kwargs: Any) -> T:
        """One API call; transport failures, 5xx and 429 are transient, other refusals permanent."""
        try:
            async with self._limit.call(f"{method} {path}", self.config.timeout_s):
                response = await self._client.request(
                    method, self._base + path, headers=self._headers, timeout=self._timeout, **kwargs
                )
        except httpx.TimeoutException as exc:
            raise TransientCourierError(f"sandbox {method} {path} timed out", code="timeout") from exc
        except httpx.TransportError as exc:
            raise TransientCourierError(f"sandbox {method} {path}: {exc!r}", code="transport") from exc
        if response.is_success:
            try:
                return msgspec.json.decode(response.content, type=answer)
            except msgspec.DecodeError as exc:
                # The call may have done its work: retrying (a create looks itself up first) is the safe reading.
                raise TransientCourierError(f"sandbox {method} {path}: unreadable answer", code="malformed") from exc
        detail, code = _problem(response)
        error = TransientCourierError if response.status_code >= 500 or response.status_code == 429 else None
        raise (error or PermanentCourierError)(detail, code=code, status_code=response.status_code)


def _problem(response: httpx.Response) -> tuple[str, str | None]:
    """The problem document's detail and the last segment of its type, or what can be said without one."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        return f"sandbox answered {response.status_code}", None
    kind = problem.get("type")
    code = kind.rsplit("/", 1)[-1] if isinstance(kind, str) else None
    return str(problem.get("detail") or problem.get("title") or response.status_code), code


def _parcel_body(parcel: Parcel) -> dict[str, Any]:
    a = parcel.address
    address = AddressIn(a.line, a.ward_code, a.province_code, a.ward_name, a.province_name)
    items = [ItemIn(i.sku, i.name, i.quantity, i.unit_price, i.size, i.color) for i in parcel.items]
    return {
        "recipient_name": parcel.recipient_name,
        "phones": list(parcel.phones),
        "address": msgspec.to_builtins(address),
        "items": msgspec.to_builtins(items),
        "cod_amount": parcel.cod_amount,
        "value": parcel.value,
        **_fee_fields(parcel),
        "try_on": parcel.try_on,
        "weight_g": parcel.weight_g,
        "note": parcel.note,
    }


def _fee_fields(parcel: Parcel) -> dict[str, str]:
    fields = FEE_FIELDS.get(parcel.fee_payer)
    if fields is None:
        raise PermanentCourierError(f"unknown fee payer {parcel.fee_payer!r}", code="fee-payer")
    return fields


def _status(raw: str) -> Status:
    if (status := _STATUSES.get(raw)) is None:
        raise PermanentCourierError(f"the sandbox reported an unknown status {raw!r}", code="unknown-status")
    return status


def _remote(shipment: Shipment) -> Remote:
    return Remote(
        tracking_code=shipment.tracking_code,
        client_code=shipment.client_code,
        status=_status(shipment.status),
        raw_status=shipment.status,
        cod_amount=shipment.cod_amount,
        recipient_name=shipment.recipient_name,
        phones=tuple(shipment.phones),
        address_line=shipment.address.line,
    )
