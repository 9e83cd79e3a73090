"""What handlers take: the request's database session, injected, and the app's constants, read from its state.

The session is the one dependency Litestar injects. The warehouse, the discount policy and the sessionmaker are
the same object for every request, so they live in the app's state (app.py) and a handler reads them with the
accessors below: Litestar resolves two or more dependencies of a handler in an anyio task group, a task each,
about 0.3 ms of CPU per request for values that never change (bench/README.md, floor_bench).
"""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.geo import Warehouse
from orders_service.orders.discounts import DiscountPolicy

DbSession: TypeAlias = NamedDependency[AsyncSession]


def warehouse_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Warehouse:
    """The shop's warehouse, where parcels leave from (ORDERS_WAREHOUSE_PROVINCE)."""
    warehouse: Warehouse = connection.app.state.warehouse
    return warehouse


def discounts_of(connection: ASGIConnection[Any, Any, Any, Any]) -> DiscountPolicy:
    """The discount policy orders are priced with (the customer's tier, unless create_app was given another)."""
    discounts: DiscountPolicy = connection.app.state.discounts
    return discounts


def sessionmaker_of(connection: ASGIConnection[Any, Any, Any, Any]) -> async_sessionmaker[Any]:
    """Sessions of the app's engine, for work that commits on its own (imports, probes) outside the request's."""
    sessionmaker: async_sessionmaker[Any] = connection.app.state.sessionmaker
    return sessionmaker
