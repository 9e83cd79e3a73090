"""Order payloads, as the contract names them."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

from msgspec import Meta, Struct, field

from couriers.capabilities import COURIERS
from orders_service.customers.schemas import CustomerIn, Source
from orders_service.domain import operations as ops
from orders_service.domain.model import (
    MAX_LINES,
    MULTI_LINE,
    Address,
    KeptItem,
    Money,
    Note,
    Payer,
    PersonName,
    ShippingFee,
)
from orders_service.domain.operations import LineIn, Operation, Phones
from orders_service.geo.address_in import AddressIn, to_address

Courier = Annotated[str, Meta(pattern="^(" + "|".join(COURIERS) + ")$", description="|".join(COURIERS))]
Reason = Annotated[str, Meta(max_length=500, pattern=MULTI_LINE)]


class RecipientIn(Struct, forbid_unknown_fields=True):
    name: PersonName
    phones: Phones
    address: AddressIn  # codes, names (old or 2025 units) or text: see AddressIn

    def domain_address(self, field: str = "recipient.address") -> Address:
        return to_address(self.address, field)


class SetAddressIn(Struct, tag="set_address", tag_field="op", forbid_unknown_fields=True):
    """`set_address` as it comes in: the address in any shape AddressIn takes, resolved before the domain."""

    address: AddressIn


# The operations as the API takes them: the domain's, but `set_address` with an address in any shape.
OperationIn = (
    ops.SetRecipient
    | SetAddressIn
    | ops.AddLine
    | ops.RemoveLine
    | ops.SetQuantity
    | ops.SwapVariant
    | ops.SetTryonOptions
    | ops.AddPayment
    | ops.RedeemPoints
    | ops.SetShipping
)


def domain_operations(operations: list[OperationIn]) -> list[Operation]:
    """The operations with each address resolved to 2025 codes; InvalidField names `operations[i].address...`."""
    out: list[Operation] = []
    for i, op in enumerate(operations):
        if isinstance(op, SetAddressIn):
            out.append(ops.SetAddress(address=to_address(op.address, f"operations[{i}].address")))
        else:
            out.append(op)
    return out


class ShippingIn(Struct, frozen=True, forbid_unknown_fields=True):
    fee: ShippingFee = 0
    payer: Payer = Payer.CUSTOMER


class OrderIn(Struct, forbid_unknown_fields=True):
    """Give `customer_id`, or `customer` (found by phone, else created)."""

    __exactly_one_of__: ClassVar[tuple[str, ...]] = ("customer_id", "customer")  # the schema says so (openapi.py)
    recipient: RecipientIn
    lines: Annotated[list[LineIn], Meta(min_length=1, max_length=MAX_LINES)]
    customer_id: UUID | None = None
    customer: CustomerIn | None = None
    channel: Source = Source.WEBSITE
    prepaid: Money = 0
    shipping: ShippingIn = ShippingIn()
    courier: Courier = "sandbox"
    note: Note | None = None


class AmendmentIn(Struct, forbid_unknown_fields=True):
    operations: Annotated[list[OperationIn], Meta(min_length=1, max_length=50)]
    reason: Reason | None = None

    def domain_operations(self) -> list[Operation]:
        return domain_operations(self.operations)


class ActionIn(Struct, forbid_unknown_fields=True):
    """Body of confirm and cancel; may be empty."""

    reason: Reason | None = None


class AddressOut(Struct):
    line: str
    ward_code: int
    province_code: int
    ward_name: str
    province_name: str
    input: str | None  # what was typed (text or names), null when the address came as codes
    zone: str  # from the shop's warehouse: intra_province | near (< 300 km) | far; fee quotes use it
    distance_km: int  # geodesic, between province centres


class RecipientOut(Struct):
    name: str
    phones: list[str]
    address: AddressOut


class TryonOptionOut(Struct, omit_defaults=True):
    size: str | None = None
    color: str | None = None
    unit_price: int = 0
    weight_g: int | None = None  # one unit, from the catalogue; absent for a SKU the catalogue does not sell


class LineOut(Struct, omit_defaults=True):
    id: str
    sku: str
    name: str
    quantity: int
    amount: int
    size: str | None = None
    color: str | None = None
    unit_price: int | None = None
    tryon_options: list[TryonOptionOut] | None = None
    kept: list[KeptItem] | None = None
    # What the line puts in the parcel (quantity x unit, or every try-on option), from the catalogue; absent for
    # a SKU the catalogue does not sell.
    weight_g: int | None = None


class DimensionsOut(Struct):
    length_cm: int
    width_cm: int
    height_cm: int


class DiscountOut(Struct):
    percent: int
    amount: int
    reason: str | None


class ShippingOut(Struct):
    fee: int
    payer: str


class ShipmentOut(Struct):
    courier: str
    tracking_code: str | None
    status: str  # pending (not at the courier yet) | created | picked | in_transit | out_for_delivery | ...
    cod_amount: int | None  # what the courier will collect (or collected), as it last acknowledged
    synced_version: int | None  # the order version the courier has; catches up with `version`
    sync_state: str  # pending | synced | sync_failed
    last_error: str | None  # the courier's message when sync_failed, or the last transient error
    fee: int | None
    # What the courier refused, per aspect (recipient, address, cod, items), in its own words; the other
    # aspects went through. Not sent again until the order changes that aspect or staff retry.
    refused: dict[str, str] = field(default_factory=dict)
    # GHN: the order that brings back the part the customer refused, and where it is (tracked until back).
    return_code: str | None = None
    return_status: str | None = None


class PendingCancelOut(Struct):
    """A cancel or merge that waits for the courier to confirm the cancellation of the order's parcel."""

    requested_at: datetime.datetime
    by: ActorOut
    reason: str | None
    for_: str = field(name="for")  # cancel | merge
    into: UUID | None = None  # merge: the order this one joins once the courier confirms


class OrderOut(Struct):
    id: UUID
    code: str
    status: str
    version: int
    customer_id: UUID
    channel: str
    recipient: RecipientOut
    lines: list[LineOut]
    subtotal: int
    discount: DiscountOut
    shipping: ShippingOut
    total: int
    paid: int
    cod_amount: int
    refund_due: int
    courier: str
    shipment: ShipmentOut | None
    merged_into: UUID | None
    merged_from: list[UUID]
    split_from: UUID | None
    note: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    cod_collected: int | None = None  # what the courier says it collected on delivery
    cod_mismatch: bool = False  # delivered, and cod_collected is not the cod_amount of what she kept
    # Set while a cancel or merge waits for the courier: meanwhile the order keeps its status and COD.
    pending_cancel: PendingCancelOut | None = None
    # The parcel: catalogue weights of everything sent (try-on options too), plus 500 g when it holds any item
    # the catalogue does not sell (500 g alone without a catalogue); what couriers are sent and quoted on.
    weight_g: int = 500
    dimensions: DimensionsOut | None = None  # from the catalogue's sizes; None: the courier's default box
    # A ship held by the edit window (ORDERS_EDIT_WINDOW_MINUTES): when the order goes to its courier.
    ship_at: datetime.datetime | None = None


class ActorOut(Struct):
    kind: str
    id: str | None


class EventOut(Struct):
    seq: int
    at: datetime.datetime
    actor: ActorOut
    type: str
    version: int
    changes: dict[str, Any]
    cod_before: int | None
    cod_after: int
    reason: str | None
    operations: list[dict[str, Any]]
