"""The one interface every courier adapter implements, and the values that cross it."""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from msgspec import Struct

from couriers.capabilities import Capabilities


class CourierError(Exception):
    """A courier refused or failed a call. `transient` errors are retried; the others stop the sync."""

    transient = False

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status_code = message, code, status_code


class TransientCourierError(CourierError):
    """Timeouts, connection errors, 5xx and 429: try again later, with backoff."""

    transient = True


class PermanentCourierError(CourierError):
    """The courier said no (4xx, a business rule): retrying the same call cannot help."""


# The most money a courier may report, as the service bounds staff's money (1,000 billion VND): far above any
# parcel, far below what a 64-bit column holds. A bigger number is a courier's bug, never a COD.
MAX_VND = 10**12
MAX_QUANTITY = 10_000  # items of one line a courier may say the customer kept


class WebhookRejected(Exception):
    """A webhook that cannot be verified or parsed; the endpoint answers 401 and changes nothing."""


class WebhookFieldInvalid(Exception):
    """A verified, well-formed webhook with a number out of range: 422 naming the field, nothing changes.

    Raised only after the signature, token or hash was checked: a forged webhook learns nothing from it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def out_of_range(error: Exception) -> WebhookFieldInvalid | None:
    """A msgspec validation error for a number beyond its bounds (`Expected `int` <= 1000000000000 - at
    `$.CODAmount``), as a WebhookFieldInvalid naming the field; None for any other error (malformed: 401)."""
    found = re.search(r"^(.*(?:<=|>=|out of range).*) - at `\$\.?(.+)`$", str(error))
    return WebhookFieldInvalid(found.group(2), found.group(1)) if found else None


class Status(enum.StrEnum):
    """A courier's own statuses mapped onto one ladder; an event never moves a parcel down it."""

    CREATED = "created"  # accepted, waiting for pickup
    PICKED = "picked"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    RETURNING = "returning"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class Address(Struct, frozen=True):
    line: str
    ward_code: int  # 2025 units
    province_code: int
    ward_name: str
    province_name: str
    # The courier's own ids for this ward where it still addresses by district (from our mapping table).
    courier_ids: Mapping[str, str | int] | None = None


class Shop(Struct, frozen=True):
    """The sender: where the courier picks parcels up (the shop's warehouse)."""

    name: str
    phone: str  # E.164
    address: Address


class Item(Struct, frozen=True):
    sku: str
    name: str
    quantity: int
    unit_price: int
    size: str | None = None
    color: str | None = None


class Parcel(Struct, frozen=True):
    """What the courier must hold for one shipment: the desired state, sent whole or in parts."""

    client_code: str  # our idempotency key: GHN client_order_code, GHTK order.id
    recipient_name: str
    phones: tuple[str, ...]  # E.164; couriers that take one phone get the first, the rest go in the note
    address: Address
    items: tuple[Item, ...]
    cod_amount: int
    value: int  # declared value of the goods, for insurance
    fee_payer: str  # "customer" | "shop"
    try_on: bool = False
    weight_g: int = 500  # everything sent, try-on options too: the shop's catalogue weights, else 500 g
    note: str | None = None
    dims_cm: tuple[int, int, int] | None = None  # length, width, height; None: the courier's default box


class Created(Struct, frozen=True):
    tracking_code: str
    fee: int
    status: Status = Status.CREATED


class Remote(Struct, frozen=True):
    """The courier's own view of a parcel (detail or lookup by client code)."""

    tracking_code: str
    client_code: str
    status: Status
    raw_status: str
    cod_amount: int
    recipient_name: str | None = None
    phones: tuple[str, ...] = ()
    address_line: str | None = None
    # GHN: the order that brings back the part a customer refused (`partial_return_code`), once there is one.
    return_code: str | None = None


class ExpectedDelivery(Struct, frozen=True):
    """Whole days from hand-over to delivery, as the courier predicts them."""

    min_days: int
    max_days: int


class Quote(Struct, frozen=True):
    """What one courier's service would charge the shop for a parcel, and how long it would take."""

    courier: str
    service: str
    fee: int  # VND
    expected_delivery: ExpectedDelivery | None = None  # None: the courier does not say


class KeptItem(Struct, frozen=True):
    sku: str
    quantity: int
    size: str | None = None
    color: str | None = None


class Event(Struct, frozen=True):
    """One verified webhook event, in our terms."""

    courier: str
    event_key: str  # unique per courier: a replay carries the same key
    tracking_code: str
    client_code: str | None
    status: Status
    raw_status: str
    occurred_at: datetime.datetime
    kept: tuple[KeptItem, ...] | None = None  # try-on: what the customer kept, when the courier says
    cod_collected: int | None = None
    partial: bool = False  # a partial delivery reported without the items (GHN, GHTK)
    message: str | None = None
    return_code: str | None = None  # GHN: the order of the refused part coming back (PartialReturnCode)
    # Read from the courier's detail by reconciliation, not reported: it never says what a try-on kept.
    observed: bool = False


class Request(Struct, frozen=True):
    """An incoming webhook as the endpoint received it."""

    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes


@runtime_checkable
class Courier(Protocol):
    name: str
    capabilities: Capabilities

    async def create(self, parcel: Parcel) -> Created: ...

    async def lookup(self, client_code: str) -> Remote | None:
        """The parcel created under `client_code`, or None: how a create whose answer was lost is found."""
        ...

    async def detail(self, tracking_code: str) -> Remote: ...

    async def update_recipient(self, tracking_code: str, parcel: Parcel) -> None:
        """Name and phones. Raises PermanentCourierError where the courier cannot (GHTK)."""
        ...

    async def update_address(self, tracking_code: str, parcel: Parcel) -> None:
        """The delivery address, on its own: a courier may accept one and refuse the other."""
        ...

    async def update_cod(self, tracking_code: str, cod_amount: int) -> None: ...

    async def update_items(self, tracking_code: str, parcel: Parcel) -> None: ...

    async def cancel(self, tracking_code: str) -> None: ...

    async def quote(self, origin_province: int, parcel: Parcel) -> Quote:
        """Fee and lead time of the parcel from the shop's pickup address (in `origin_province`)."""
        ...

    def parse_webhook(self, request: Request) -> list[Event]:
        """Verify and parse; raise WebhookRejected for anything unsigned, forged, stale or malformed, and
        WebhookFieldInvalid for a verified one with a number out of range (money above MAX_VND)."""
        ...

    async def aclose(self) -> None: ...
