"""The Viettel Post adapter: the Courier protocol over VTP's partner API v2 (couriers.md §3)."""

from __future__ import annotations

import asyncio
from typing import Any

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
from couriers.limits import CallLimit
from couriers.viettelpost import webhook
from couriers.viettelpost.payloads import NO_AMEND, as_int, create_body, price_body

# couriers.md §3.1: the live host is the default; the dev host is for tests, set on purpose.
PRODUCTION = "https://partner.viettelpost.vn"
DEVELOPMENT = "https://partnerdev.viettelpost.vn"
CANCEL = 4  # §3.4 UpdateOrder TYPE: 4 cancels
# §3.1 errors are `{"error": true, "message": ...}`; [G] an expired or wrong token is told by HTTP 401 or by
# `status` 401 in the body. Either makes the adapter log in again once, when it has credentials.
_UNAUTHORISED = 401
NO_STATUS_READ = (
    "Viettel Post publishes no order-status endpoint (couriers.md §3.4): its webhook is the only status channel"
)


class VtpConfig(Struct, frozen=True, kw_only=True):
    shop: Shop
    webhook_secret: str  # the TOKEN VTP puts in every webhook body (§3.5)
    # The long-lived token of the customer account (/v2/user/ownerConnect), or username and password, with which
    # the adapter logs in (/v2/user/Login) at its first call and again when VTP says the token is no longer valid.
    token: str = ""
    username: str = ""
    password: str = ""
    base_url: str = PRODUCTION
    # The sender: the store registered with VTP (/v2/user/listInventory) and its VTP province, district, ward ids.
    groupaddress_id: int = 0
    cus_id: int = 0
    sender_units: tuple[int, int, int] = (0, 0, 0)
    service: str = "VCN"  # ORDER_SERVICE (§3.2: VCN, LCOD, ... as listService lists them for the account)
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.token and not (self.username and self.password):
            raise ValueError("Viettel Post needs a token, or a username and a password to log in with")


class VtpCourier:
    """One Viettel Post customer account. Every call has an explicit timeout; errors are sorted into transient and
    permanent; a token VTP no longer takes is renewed once per call when the adapter has credentials."""

    name = "viettelpost"
    capabilities: Capabilities = CAPABILITIES["viettelpost"]

    def __init__(
        self, config: VtpConfig, client: httpx.AsyncClient | None = None, limit: CallLimit | None = None
    ) -> None:
        self.config = config
        self._limit = limit or CallLimit("VIETTELPOST")
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._timeout = httpx.Timeout(config.timeout_s)
        self._token = config.token
        self._login_lock = asyncio.Lock()

    async def _send(self, method: str, path: str, body: dict[str, Any] | None, token: str | None) -> httpx.Response:
        url = self.config.base_url.rstrip("/") + path
        headers = {"Accept": "application/json"} | ({"Token": token} if token else {})
        try:
            async with self._limit.call(f"{method} {path}", self.config.timeout_s):
                return await self._client.request(method, url, json=body, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise TransientCourierError(f"Viettel Post did not answer {method} {path} in time: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TransientCourierError(f"Viettel Post unreachable for {method} {path}: {exc!r}") from exc

    async def _login(self, stale: str) -> str:
        """A fresh token from /v2/user/Login (§3.1), once for all the calls that found `stale` refused."""
        async with self._login_lock:
            if self._token and self._token != stale:
                return self._token  # another call logged in meanwhile
            if not (self.config.username and self.config.password):
                raise PermanentCourierError("Viettel Post refused the token, and no username/password is set")
            body = {"USERNAME": self.config.username, "PASSWORD": self.config.password}
            data = _data("/v2/user/Login", await self._send("POST", "/v2/user/Login", body, None))
            token = data.get("token") if isinstance(data, dict) else None
            if not token:
                raise PermanentCourierError("Viettel Post login answered without a token")
            self._token = str(token)
            return self._token

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The `data` of a successful call; raises a Courier error otherwise."""
        token = self._token or await self._login("")
        response = await self._send(method, path, body, token)
        if _unauthorised(response) and self.config.username:
            response = await self._send(method, path, body, await self._login(token))
        return _data(path, response)

    async def create(self, parcel: Parcel) -> Created:
        c = self.config
        body = create_body(
            parcel, c.shop, sender=c.sender_units, groupaddress_id=c.groupaddress_id, cus_id=c.cus_id, service=c.service
        )
        data = await self._call("POST", "/v2/order/createOrder", body)
        if not isinstance(data, dict) or not data.get("ORDER_NUMBER"):
            # VTP said yes without a waybill: whether the order exists is unknown, so the call is retried.
            raise TransientCourierError(f"Viettel Post accepted {parcel.client_code} but returned no ORDER_NUMBER")
        return Created(tracking_code=str(data["ORDER_NUMBER"]), fee=as_int(data.get("MONEY_TOTAL")))

    async def lookup(self, client_code: str) -> Remote | None:
        # §7: VTP documents no lookup by our code. A create whose answer was lost is sent again under the same
        # ORDER_NUMBER; [G] VTP refusing a number it already has then ends the sync as failed, for staff to see.
        return None

    async def detail(self, tracking_code: str) -> Remote:
        raise PermanentCourierError(f"{NO_STATUS_READ}; {tracking_code} cannot be read back")

    async def update_recipient(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the recipient of {tracking_code}")

    async def update_address(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the address of {tracking_code}")

    async def update_cod(self, tracking_code: str, cod_amount: int) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the COD of {tracking_code}")

    async def update_items(self, tracking_code: str, parcel: Parcel) -> None:
        raise PermanentCourierError(f"{NO_AMEND}; cannot change the items of {tracking_code}")

    async def cancel(self, tracking_code: str) -> None:
        # §3.4: UpdateOrder TYPE=4. [G] a cancel repeated after a lost answer is accepted again by the fake; the
        # real answer is unknown, so a refusal is reported as it comes.
        body = {"TYPE": CANCEL, "ORDER_NUMBER": tracking_code, "NOTE": "Shop hủy đơn"}
        await self._call("POST", "/v2/order/UpdateOrder", body)

    async def quote(self, origin_province: int, parcel: Parcel) -> Quote:
        c = self.config
        if origin_province != c.shop.address.province_code:
            # VTP prices from the sender's district ids, which this account only knows for its store.
            raise PermanentCourierError(
                f"Viettel Post quotes from the shop's province {c.shop.address.province_code}, not {origin_province}"
            )
        data = await self._call(
            "POST", "/v2/order/getPrice", price_body(parcel, sender=c.sender_units, service=c.service)
        )
        if not isinstance(data, dict) or data.get("MONEY_TOTAL") is None:
            raise PermanentCourierError("Viettel Post price answer without MONEY_TOTAL")
        # No lead time: the only candidate field (KPI_HT) is unconfirmed, so VTP's quote says none.
        return Quote(courier=self.name, service=c.service, fee=as_int(data["MONEY_TOTAL"]))

    def parse_webhook(self, request: Request) -> list[Event]:
        return webhook.parse(request, self.config.webhook_secret)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _unauthorised(response: httpx.Response) -> bool:
    return response.status_code == _UNAUTHORISED or _envelope(response).get("status") == _UNAUTHORISED


def _data(path: str, response: httpx.Response) -> Any:
    """VTP's envelope (`{status, error, message, data}`) to data, or a Courier error (§3.1)."""
    envelope = _envelope(response)
    status = response.status_code
    message = str(envelope.get("message") or response.reason_phrase or "no message")
    code = envelope.get("status")
    code = None if code is None else str(code)
    if status == 429 or status >= 500:
        raise TransientCourierError(f"Viettel Post {path}: HTTP {status} {message}", code=code, status_code=status)
    if status >= 400 or envelope.get("error") is True:
        raise PermanentCourierError(message, code=code, status_code=status)
    if "error" not in envelope:
        # A 2xx without VTP's envelope came from something in between: whether VTP acted is unknown.
        raise TransientCourierError(f"Viettel Post {path}: HTTP {status} without VTP's envelope", status_code=status)
    return envelope.get("data")
