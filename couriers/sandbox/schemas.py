"""Wire shapes of the sandbox courier's HTTP API, shared by its server and its adapter."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from couriers.base import MAX_QUANTITY, MAX_VND

Money = Annotated[int, Meta(ge=0, le=MAX_VND, description="integer VND")]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9]{8,15}$", description="E.164 preferred")]
Phones = Annotated[list[Phone], Meta(min_length=1, max_length=5)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Province = Annotated[int, Meta(ge=1, le=999)]
Weight = Annotated[int, Meta(ge=1, le=1_000_000, description="grams")]
DriverStatus = Literal["picked", "in_transit", "out_for_delivery", "delivered", "delivery_failed", "returned"]


class AddressIn(Struct, frozen=True):
    line: Name
    ward_code: Annotated[int, Meta(ge=1)]
    province_code: Province
    ward_name: str = ""
    province_name: str = ""


class ItemIn(Struct, frozen=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    name: str
    quantity: Annotated[int, Meta(ge=1, le=10_000)]
    unit_price: Money
    size: str | None = None
    color: str | None = None


Items = Annotated[list[ItemIn], Meta(min_length=1, max_length=100)]


class ShipmentIn(Struct, frozen=True):
    """A create request: the Parcel of `couriers.base`, plus where the shop ships from."""

    client_code: Annotated[str, Meta(min_length=1, max_length=50, description="the shop's idempotency key")]
    recipient_name: Name
    phones: Phones
    address: AddressIn
    items: Items
    cod_amount: Money
    origin_province: Province
    value: Money = 0
    fee_payer: Annotated[str, Meta(pattern="^(customer|shop)$")] = "customer"
    try_on: bool = False
    weight_g: Weight = 500
    note: str | None = None


class ShipmentPatch(Struct, frozen=True):
    """A partial update: fields left out stay as they are."""

    recipient_name: Name | UnsetType = UNSET
    phones: Phones | UnsetType = UNSET
    address: AddressIn | UnsetType = UNSET
    cod_amount: Money | UnsetType = UNSET
    items: Items | UnsetType = UNSET


class CreatedOut(Struct, frozen=True):
    tracking_code: str
    status: str
    fee: int


class QuoteIn(Struct, frozen=True):
    origin_province: Province
    province_code: Province
    weight_g: Weight = 500


class QuoteOut(Struct, frozen=True):
    fee: int
    zone: str
    service: str = "standard"
    min_days: int | None = None  # the lead time of the zone (rules.LEAD_DAYS)
    max_days: int | None = None


class KeptLine(Struct, frozen=True):
    sku: str
    quantity: Annotated[int, Meta(ge=1, le=MAX_QUANTITY)]
    size: str | None = None
    color: str | None = None


class EventIn(Struct, frozen=True):
    """What a test driver says happened to a parcel."""

    status: DriverStatus
    kept: list[KeptLine] | None = None
    cod_collected: Money | None = None


class HistoryEntry(Struct):
    status: str
    at: datetime.datetime
    implied: bool = False  # passed through on the way to a status the driver skipped to


class Attempt(Struct, omit_defaults=True):
    at: datetime.datetime
    status_code: int | None = None
    error: str | None = None


class WebhookRecord(Struct):
    id: str
    seq: int
    status: str
    delivered: bool = False
    attempts: list[Attempt] = []


class Shipment(Struct):
    """The courier's own view of a parcel; also what the store persists."""

    tracking_code: str
    client_code: str
    status: str
    recipient_name: str
    phones: list[str]
    address: AddressIn
    items: list[ItemIn]
    cod_amount: int
    value: int
    fee_payer: str
    try_on: bool
    weight_g: int
    note: str | None
    origin_province: int
    fee: int
    zone: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    history: list[HistoryEntry] = []
    webhooks: list[WebhookRecord] = []
    kept: list[KeptLine] | None = None
    cod_collected: int | None = None


class EventOut(Struct, frozen=True):
    """The driver's answer: the new state and whether the webhook got through."""

    status: str
    seq: int
    webhook_id: str
    delivered: bool
    attempts: int
    shipment: Shipment


class WebhookPayload(Struct, frozen=True, omit_defaults=True):
    """The JSON body of a `shipment.status` webhook."""

    id: str
    type: str
    tracking_code: str
    client_code: str
    status: str
    occurred_at: datetime.datetime
    seq: int
    kept: list[KeptLine] | None = None
    cod_collected: Money | None = None


class FaultsIn(Struct, frozen=True):
    """Faults for the next API calls; fields left out keep their current value."""

    fail_next: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    status_code: Annotated[int, Meta(ge=400, le=599)] = 500
    lose_next_create_response: bool | None = None
    delay_ms: Annotated[int, Meta(ge=0, le=60_000)] | None = None


class FaultsOut(Struct, frozen=True):
    fail_next: int
    status_code: int
    lose_next_create_response: bool
    delay_ms: int
    calls: dict[str, int]


class FieldError(Struct, frozen=True):
    field: str
    message: str


class Problem(Struct, frozen=True, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    tracking_code: str | None = None  # the existing parcel, on a duplicate client_code
    errors: list[FieldError] | None = None  # what failed validation, field by field
