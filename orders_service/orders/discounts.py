"""Where an order's tier discount comes from; the loyalty feature plugs its tiers in here."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from sqlalchemy import ColumnElement, SQLColumnExpression
from sqlalchemy.ext.asyncio import AsyncSession


@runtime_checkable
class DiscountPolicy(Protocol):
    async def for_customer(self, session: AsyncSession, customer_id: UUID) -> tuple[int, str | None]:
        """Return (percent, reason) for a new order of the customer (by id: her row need not be loaded)."""
        ...

    def read_along(self, customer_id: SQLColumnExpression[UUID]) -> ColumnElement[Any] | None:
        """What `for_customer` reads, as a scalar subquery on `customer_id` that the caller's own SELECT of the
        order can carry, so that the amendment needs no statement of its own for it; None: nothing to read."""
        ...

    def from_read(self, session: AsyncSession, value: Any) -> tuple[int, str | None]:
        """(percent, reason) from the value `read_along` read; the same as `for_customer` at that moment."""
        ...


class NoDiscount:
    """Until tiers exist every customer is a member at 0%."""

    async def for_customer(self, session: AsyncSession, customer_id: UUID) -> tuple[int, str | None]:
        return 0, None

    def read_along(self, customer_id: SQLColumnExpression[UUID]) -> ColumnElement[Any] | None:
        return None

    def from_read(self, session: AsyncSession, value: Any) -> tuple[int, str | None]:
        return 0, None
