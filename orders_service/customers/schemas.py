"""Customer payloads."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

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


class CustomerIn(Struct, forbid_unknown_fields=True):
    full_name: PersonName
    phones: Annotated[list[RawPhone], Meta(min_length=1, max_length=5)]
    email: Email | None = None
    birthday: datetime.date | None = None
    gender: Gender | None = None
    source: Source | None = None
    tags: Annotated[list[Tag], Meta(max_length=20)] = []


class CustomerOut(Struct):
    id: UUID
    full_name: str
    phones: list[str]
    email: str | None
    birthday: datetime.date | None
    gender: str | None
    source: str | None
    tags: list[str]
    created_at: datetime.datetime
    updated_at: datetime.datetime
