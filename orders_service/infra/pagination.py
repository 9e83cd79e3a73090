"""Paginated lists: `?limit=&offset=` in, `{items, total, limit, offset}` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

from orders_service.domain.model import ONE_LINE, PHONE_SHAPE

T = TypeVar("T")


def text_query(max_length: int, description: str | None = None) -> QueryParameter:
    """A free-text query parameter: bounded, one line, no control characters."""
    return QueryParameter(max_length=max_length, pattern=ONE_LINE, description=description)


def phone_query(description: str) -> QueryParameter:
    """A phone to look up, in any form customers type (the schema's `format: phone`: a number that exists)."""
    return QueryParameter(max_length=32, pattern=PHONE_SHAPE, format="phone", description=description)


Limit = Annotated[int, QueryParameter(ge=1, le=200, description="page size (1-200)")]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000, description="items to skip")]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
