"""Merge and split payloads."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from orders_service.domain.model import MAX_LINES, Quantity
from orders_service.orders.schemas import OrderOut, Reason, RecipientIn, ShippingIn

MAX_FAMILY = 20


class MergeIn(Struct, forbid_unknown_fields=True):
    """Orders of one customer into one parcel; who wins is explicit, by default the `into` order."""

    order_ids: Annotated[list[UUID], Meta(min_length=2, max_length=MAX_FAMILY)]
    into: UUID | None = None  # default: the order that already has a courier order, else the oldest
    recipient_from: UUID | None = None  # whose recipient name and phones the parcel carries
    address_from: UUID | None = None  # whose address it goes to, at that order's shipping fee and payer
    versions: dict[str, int] | None = None  # the ETags staff saw, by order id: a change since is a conflict
    reason: Reason | None = None


class SplitLineIn(Struct, forbid_unknown_fields=True):
    line_id: UUID
    quantity: Quantity


class SplitPartIn(Struct, forbid_unknown_fields=True):
    lines: Annotated[list[SplitLineIn], Meta(min_length=1, max_length=MAX_LINES)]
    recipient: RecipientIn | None = None  # default: the original's
    shipping: ShippingIn | None = None  # default: the shop's fee policy (ORDERS_SPLIT_FEE)


class SplitIn(Struct, forbid_unknown_fields=True):
    parts: Annotated[list[SplitPartIn], Meta(min_length=1, max_length=MAX_FAMILY)]
    reason: Reason | None = None


class SplitOut(Struct):
    """The original as it remains, then each part as a new order, in the order the parts were given."""

    orders: list[OrderOut]
