"""Customer payloads."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field

from orders_service.domain.model import ONE_LINE, PersonName, RawPhone

Email = Annotated[
    str, Meta(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
]
Tag = Annotated[str, Meta(min_length=1, max_length=32, pattern=ONE_LINE)]


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Source(enum.StrEnum):
    POS = "pos"
    WEBSITE = "website"
    SHOPEE = "shopee"
    LAZADA = "lazada"
    TIKTOK = "tiktok"
    FACEBOOK = "facebook"
    ZALO = "zalo"


class IdentityKind(enum.StrEnum):
    EMAIL = "email"
    SHOPEE = "shopee"
    LAZADA = "lazada"
    TIKTOK = "tiktok"
    FACEBOOK = "facebook"
    ZALO = "zalo"


class IdentityIn(Struct, forbid_unknown_fields=True):
    kind: IdentityKind
    value: Annotated[str, Meta(min_length=1, max_length=254)]


class IdentityOut(Struct):
    kind: str
    value: str


class CustomerIn(Struct, forbid_unknown_fields=True):
    full_name: PersonName
    phones: Annotated[list[RawPhone], Meta(min_length=1, max_length=5)]
    email: Email | None = None
    birthday: datetime.date | None = None
    gender: Gender | None = None
    source: Source | None = None
    tags: Annotated[list[Tag], Meta(max_length=20)] = []
    # Emails and buyer ids of marketplaces and chat apps; an order carrying a known one finds this profile.
    identities: Annotated[list[IdentityIn], Meta(max_length=10)] = []


class CustomerOut(Struct):
    id: UUID
    full_name: str
    phones: list[str]
    email: str | None
    birthday: datetime.date | None
    gender: str | None
    source: str | None
    tags: list[str]
    identities: list[IdentityOut]
    merged_into: UUID | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    note: str | None = None
    erased_at: datetime.datetime | None = None


Note = Annotated[str, Meta(max_length=1000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]  # lines, no controls


class CustomerPatch(Struct, forbid_unknown_fields=True):
    """What staff may change on a profile; a field left out stays, `null` clears it (the name cannot be cleared).

    Phones and identities change through their own rules (an order's phones, the merge), not here.
    """

    full_name: PersonName | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    birthday: datetime.date | UnsetType | None = UNSET
    gender: Gender | UnsetType | None = UNSET
    tags: Annotated[list[Tag], Meta(max_length=20)] | UnsetType = UNSET
    note: Note | UnsetType | None = UNSET


class ErasureOut(Struct):
    """What an erasure replaced: her profile (and the duplicates merged into it) and what her orders held."""

    customer_id: UUID
    erased_at: datetime.datetime
    profiles: int
    orders: int
    events: int
    notifications: int


class CustomerMergeIn(Struct, forbid_unknown_fields=True):
    from_: Annotated[list[UUID], Meta(min_length=1, max_length=20)] = field(name="from")
    into: UUID
    reason: Annotated[str, Meta(max_length=500, pattern=ONE_LINE)] | None = None


class MergePreviewOut(Struct):
    """What a profile merge moves, and the survivor's loyalty afterwards."""

    into: UUID
    from_: list[UUID] = field(name="from")
    phones: list[str] = []
    identities: list[IdentityOut] = []
    orders: int = 0
    points_entries: int = 0
    points: int = 0
    spend: int = 0
    delivered_orders: int = 0
    tier_before: str = ""
    tier_after: str = ""
