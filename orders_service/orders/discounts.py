"""Where an order's tier discount comes from; the loyalty feature plugs its tiers in here."""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession


@runtime_checkable
class DiscountPolicy(Protocol):
    async def for_customer(self, session: AsyncSession, customer_id: UUID) -> tuple[int, str | None]:
        """Return (percent, reason) for a new order of the customer (by id: her row need not be loaded)."""
        ...


class NoDiscount:
    """Until tiers exist every customer is a member at 0%."""

    async def for_customer(self, session: AsyncSession, customer_id: UUID) -> tuple[int, str | None]:
        return 0, None
