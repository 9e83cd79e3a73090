"""Paginated lists: `?limit=&offset=` in, `{items, total, limit, offset}` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

from orders_service.domain.model import ONE_LINE

T = TypeVar("T")


def text_query(max_length: int, description: str | None = None) -> QueryParameter:
    """A free-text query parameter: bounded, one line, no control characters."""
    return QueryParameter(max_length=max_length, pattern=ONE_LINE, description=description)


Limit = Annotated[int, QueryParameter(ge=1, le=200, description="page size (1-200)")]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000, description="items to skip")]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
