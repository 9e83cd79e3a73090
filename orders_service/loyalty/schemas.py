"""Loyalty payloads: the points ledger and the customer profile."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from orders_service.customers.schemas import CustomerOut
from orders_service.loyalty.ledger import Kind


class Status(enum.StrEnum):
    NEVER_PURCHASED = "never_purchased"
    NEW = "new"
    REGULAR = "regular"
    VIP = "vip"


class PointsEntryOut(Struct):
    at: datetime.datetime
    order_id: UUID | None
    kind: Kind
    points: int
    balance_after: int


class StatsOut(Struct):
    delivered_orders: int
    total_spent: int
    spent_last_3_months: int
    average_order_value: int
    first_order_at: datetime.datetime | None
    last_order_at: datetime.datetime | None


class LoyaltyOut(Struct):
    tier: str
    points: int
    lifetime_spend: int
    discount_percent: int
    next_tier: str | None
    amount_to_next_tier: int | None


class FavoritesOut(Struct):
    sizes: list[str]
    colors: list[str]
    skus: list[str]


class ProfileOut(Struct):
    customer: CustomerOut
    stats: StatsOut
    status: Status
    age_group: str | None
    loyalty: LoyaltyOut
    segments: list[str]
    favorites: FavoritesOut


class SegmentOut(Struct):
    name: str
    description: str
    count: int


class TierFloorIn(Struct, forbid_unknown_fields=True):
    """A tier she keeps whatever her spend (a VIP by the owner's decision); null lifts it."""

    manual_floor: Annotated[str, Meta(min_length=1, max_length=32)] | None


class TierStateOut(Struct):
    tier: str
    manual_floor: str | None
    since: datetime.datetime
    review_at: datetime.datetime | None


class TierChangeOut(Struct):
    at: datetime.datetime
    from_tier: str | None
    to_tier: str
    reason: str
