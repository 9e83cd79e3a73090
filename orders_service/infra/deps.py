"""Dependencies handlers ask for by name: the request's database session and the discount policy."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.geo import Warehouse
from orders_service.orders.discounts import DiscountPolicy

DbSession: TypeAlias = NamedDependency[AsyncSession]
Discounts: TypeAlias = NamedDependency[DiscountPolicy]
Sessionmaker: TypeAlias = NamedDependency[async_sessionmaker[Any]]
WarehouseDep: TypeAlias = NamedDependency[Warehouse]
