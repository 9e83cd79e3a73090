"""Delivery review and returns payloads."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from orders_service.domain.model import MAX_LINES, MAX_TRYON_OPTIONS, Quantity, Sku, Variant
from orders_service.domain.returns import ReturnReason
from orders_service.orders.schemas import Reason


class KeptIn(Struct, frozen=True, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity
    size: Variant | None = None
    color: Variant | None = None


class ReviewIn(Struct, forbid_unknown_fields=True):
    """What the customer kept, item by item: a plain line's variant or a try-on option. Empty: she kept nothing."""

    kept: Annotated[list[KeptIn], Meta(max_length=MAX_LINES * MAX_TRYON_OPTIONS)]
    note: Reason | None = None


class ReturnOut(Struct):
    sku: str
    name: str
    size: str | None
    color: str | None
    unit_price: int
    quantity: int
    reason: ReturnReason  # tryon_not_kept | not_kept | returned (the whole parcel came back)


class ReturnsOut(Struct):
    order_id: UUID
    items: list[ReturnOut]
    total_quantity: int
    value: int  # sum of unit_price * quantity, in VND
