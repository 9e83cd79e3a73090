"""Return request payloads: what she asks back and why; the request as answered, with its decision."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from orders_service.domain.model import MAX_LINES, MAX_TRYON_OPTIONS, Quantity, Sku, Variant
from orders_service.orders.schemas import Reason

ReasonText = Annotated[str, Meta(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class State(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReturnItemIn(Struct, frozen=True, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity
    size: Variant | None = None
    color: Variant | None = None


class ReturnRequestIn(Struct, forbid_unknown_fields=True):
    """Items she asks back (each at most what she kept and no other open or approved request asks), and why."""

    items: Annotated[list[ReturnItemIn], Meta(min_length=1, max_length=MAX_LINES * MAX_TRYON_OPTIONS)]
    reason: ReasonText


class DecisionIn(Struct, forbid_unknown_fields=True):
    """Body of approve and reject; may be empty. A rejection's reason is shown to the customer."""

    reason: Reason | None = None


class ReturnItemOut(Struct):
    sku: str
    name: str
    size: str | None
    color: str | None
    unit_price: int
    quantity: int
    value: int  # unit prices as kept x quantity, before the discount


class ActorOut(Struct):
    kind: str  # customer | staff
    id: str | None


class ReturnRequestOut(Struct):
    id: UUID
    order_id: UUID
    order_code: str
    state: State
    items: list[ReturnItemOut]
    reason: str
    value: int  # the items' kept prices
    refund: int  # value less the items' share of the order's discount (fixed when approved)
    requested_by: ActorOut
    created_at: datetime.datetime
    decided_by: str | None
    decided_at: datetime.datetime | None
    decision_reason: str | None


class ReturnRequestsOut(Struct):
    order_id: UUID
    window_ends_at: datetime.datetime | None  # until when a new request is accepted (None: not delivered)
    returnable: list[ReturnItemOut]  # what may still be asked back (quantity left per variant)
    items: list[ReturnRequestOut]
