"""The typed amendment operations of the contract: a msgspec tagged union on `op`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from orders_service.domain.model import (
    MAX_TRYON_OPTIONS,
    Address,
    Money,
    Payer,
    PersonName,
    ProductName,
    Quantity,
    ShippingFee,
    Sku,
    TryonOption,
    UnitPrice,
    Variant,
    VnPhone,
)

Phones = Annotated[list[VnPhone], Meta(min_length=1, max_length=3, description="1 to 3 phones, any VN form")]
TryonOptions = Annotated[
    list[TryonOption],
    Meta(min_length=1, max_length=MAX_TRYON_OPTIONS, description="sizes/colours sent for the customer to try"),
]


class LineIn(Struct, forbid_unknown_fields=True):
    """A new line: either `unit_price` (a plain line) or `tryon_options` (a try-on line), not both."""

    __exactly_one_of__: ClassVar[tuple[str, ...]] = ("unit_price", "tryon_options")  # for the schema (openapi.py)

    sku: Sku
    name: ProductName
    quantity: Quantity = 1
    size: Variant | None = None
    color: Variant | None = None
    unit_price: UnitPrice | None = None
    tryon_options: TryonOptions | None = None


class _Op(Struct, tag_field="op", forbid_unknown_fields=True):
    pass


class SetRecipient(_Op, tag="set_recipient"):
    name: PersonName | UnsetType = UNSET
    phones: Phones | UnsetType = UNSET


class SetAddress(_Op, tag="set_address"):
    address: Address


class AddLine(_Op, tag="add_line"):
    line: LineIn


class RemoveLine(_Op, tag="remove_line"):
    line_id: UUID


class SetQuantity(_Op, tag="set_quantity"):
    line_id: UUID
    quantity: Quantity


class SwapVariant(_Op, tag="swap_variant"):
    line_id: UUID
    size: Variant | UnsetType = UNSET
    color: Variant | UnsetType = UNSET
    unit_price: UnitPrice | UnsetType = UNSET


class SetTryonOptions(_Op, tag="set_tryon_options"):
    line_id: UUID
    tryon_options: TryonOptions


class AddPayment(_Op, tag="add_payment"):
    amount: Annotated[int, Meta(gt=0, le=10**12)]


class RedeemPoints(_Op, tag="redeem_points"):
    """Spend loyalty points on the order: each takes the configured VND off its COD, like a payment."""

    points: Annotated[int, Meta(gt=0, le=10**9)]


class SetShipping(_Op, tag="set_shipping"):
    fee: ShippingFee | UnsetType = UNSET
    payer: Payer | UnsetType = UNSET


Operation = (
    SetRecipient
    | SetAddress
    | AddLine
    | RemoveLine
    | SetQuantity
    | SwapVariant
    | SetTryonOptions
    | AddPayment
    | RedeemPoints
    | SetShipping
)

OPERATION_NAMES: tuple[str, ...] = tuple(
    str(cls.__struct_config__.tag)
    for cls in (
        SetRecipient,
        SetAddress,
        AddLine,
        RemoveLine,
        SetQuantity,
        SwapVariant,
        SetTryonOptions,
        AddPayment,
        RedeemPoints,
        SetShipping,
    )
)


def redeemed_points(operations: Sequence[Operation]) -> int:
    return sum(op.points for op in operations if isinstance(op, RedeemPoints))


def op_name(operation: Operation) -> str:
    return str(type(operation).__struct_config__.tag)


__all__ = ["LineIn", "Money", "Operation"]
