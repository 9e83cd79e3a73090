"""The order as a value: what the domain copies, changes and checks without I/O."""

from __future__ import annotations

import enum
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta, Struct

MAX_MONEY = 10**12  # 1,000 billion VND: far above any parcel, far below a 64-bit overflow
MAX_UNIT_PRICE = 10**9
MAX_QUANTITY = 999
MAX_LINES = 100
MAX_TRYON_OPTIONS = 10
MAX_SHIPPING_FEE = 10**7

# Text that shops and customers type: control characters (NUL above all, which PostgreSQL refuses) are not.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Money = Annotated[int, Meta(ge=0, le=MAX_MONEY)]
UnitPrice = Annotated[int, Meta(ge=0, le=MAX_UNIT_PRICE)]
Quantity = Annotated[int, Meta(ge=1, le=MAX_QUANTITY)]
ShippingFee = Annotated[int, Meta(ge=0, le=MAX_SHIPPING_FEE)]
Sku = Annotated[str, Meta(min_length=1, max_length=64, pattern=ONE_LINE)]
ProductName = Annotated[str, Meta(min_length=1, max_length=200, pattern=ONE_LINE)]
Variant = Annotated[str, Meta(min_length=1, max_length=32, pattern=ONE_LINE)]
PersonName = Annotated[str, Meta(min_length=1, max_length=120, pattern=ONE_LINE)]
AddressLine = Annotated[str, Meta(min_length=1, max_length=200, pattern=ONE_LINE)]
ProvinceCode = Annotated[int, Meta(ge=1, le=99)]
WardCode = Annotated[int, Meta(ge=1, le=99_999)]
# An address as it was typed ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"), kept beside the 2025 codes it resolved to.
AddressInput = Annotated[str, Meta(min_length=1, max_length=300, pattern=MULTI_LINE)]
Note = Annotated[str, Meta(max_length=1000, pattern=MULTI_LINE)]
# A phone as typed: digits (ASCII or full-width), spaces, dots, dashes, brackets, one leading +. The schema says so
# (and `format`: a number that exists, which only the numbering plan decides: 422 otherwise); the service's own
# check is orders_service.domain.phones, which reads the same forms.
_SEPARATOR = r"\s.\-()\uff08\uff09\uff0d\uff0e"
_DIGIT = r"0-9\uff10-\uff19"
PHONE_SHAPE = rf"^[{_SEPARATOR}]*[+\uff0b]?[{_SEPARATOR}{_DIGIT}]*[{_DIGIT}][{_SEPARATOR}{_DIGIT}]*$"


def _phone(number_format: str, description: str) -> Meta:
    extra = {"pattern": PHONE_SHAPE, "format": number_format}
    return Meta(
        min_length=1, max_length=32, pattern=ONE_LINE, description=description, extra_json_schema={"extra": extra}
    )


RawPhone = Annotated[str, _phone("phone", "a phone number in any common form, e.g. 0901 234 567 or +84901234567")]
VnPhone = Annotated[str, _phone("vn-phone", "a Vietnamese phone number in any common form, e.g. 0901 234 567")]


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    READY_TO_SHIP = "ready_to_ship"
    IN_TRANSIT = "in_transit"
    NEEDS_REVIEW = "needs_review"  # the courier reported a partial delivery without the items kept
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    RETURNING = "returning"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    MERGED = "merged"


class Payer(enum.StrEnum):
    CUSTOMER = "customer"
    SHOP = "shop"


class ActorKind(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    COURIER = "courier"
    SYSTEM = "system"


class Actor(Struct, frozen=True):
    kind: ActorKind
    id: str | None = None


class Address(Struct, frozen=True, forbid_unknown_fields=True):
    line: AddressLine
    ward_code: WardCode
    province_code: ProvinceCode
    input: AddressInput | None = None  # what was typed, when it came as text or names


class Recipient(Struct, frozen=True):
    name: str
    phones: tuple[str, ...]  # E.164, in the order the courier should call them
    address: Address


class TryonOption(Struct, frozen=True, forbid_unknown_fields=True):
    size: Variant | None = None
    color: Variant | None = None
    unit_price: UnitPrice = 0


class KeptItem(Struct, frozen=True, forbid_unknown_fields=True):
    size: Variant | None
    color: Variant | None
    unit_price: UnitPrice
    quantity: Quantity


class Line(Struct, frozen=True):
    id: str
    sku: str
    name: str
    quantity: int
    size: str | None = None
    color: str | None = None
    unit_price: int | None = None  # None for a try-on line: its price comes from its options
    tryon_options: tuple[TryonOption, ...] | None = None
    kept: tuple[KeptItem, ...] | None = None  # what the courier reported kept, once it has

    @property
    def is_tryon(self) -> bool:
        return self.tryon_options is not None


class Shipping(Struct, frozen=True):
    fee: int
    payer: Payer


class Order(Struct, frozen=True):
    """Everything an amendment may read or change; identity and bookkeeping stay in the database."""

    status: OrderStatus
    recipient: Recipient
    lines: tuple[Line, ...]
    shipping: Shipping
    paid: int
    discount_percent: int = 0
    discount_reason: str | None = None
    courier: str = "sandbox"
    note: str | None = None


T = TypeVar("T", bound=Struct)


def replace(value: T, **changes: Any) -> T:
    """A copy of a frozen value with some fields changed."""
    return msgspec.structs.replace(value, **changes)
