"""Paginated lists: `?limit=&offset=` in, `{items, total, limit, offset}` out, read through advanced-alchemy.

Services list with a `Repository` and advanced-alchemy's filters (`LimitOffset`, `OrderBy`, `CollectionFilter`,
`SearchFilter`, ...): the count, the page and the optional filters are the library's, not written per list.
Its service layer is not used: its `OffsetPagination` and filter providers (`currentPage`, `pageSize`) would
change the pages and query parameters the contract fixes, and our use cases are functions of the request's
session already.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from advanced_alchemy.base import ModelProtocol
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from litestar.params import QueryParameter

from orders_service.domain.model import ONE_LINE, PHONE_SHAPE

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=ModelProtocol)


class Repository(SQLAlchemyAsyncRepository[ModelT]):
    """advanced-alchemy's repository as this service uses it; a subclass names its `model_type`."""

    # SQLAlchemy's own errors reach the edge, whose one table maps them (a lost database is a 503 there);
    # the library's RepositoryError would hide them from it.
    wrap_exceptions = False
    # COUNT, then the page (skipped when nothing matches): the one-query `count(*) OVER ()` reports 0 for a
    # page past the end, where `total` must still count every match.
    count_with_window_function = False


def given(**values: Any) -> dict[str, Any]:
    """Equality filters for a repository, from the optional ones a caller gave (None: not filtered on)."""
    return {name: value for name, value in values.items() if value is not None}


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
