"""The per-courier address map: our 2025 wards in the terms of couriers that still address by district."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.filters import LimitOffset, OrderBy
from sqlalchemy.ext.asyncio import AsyncSession

from couriers.capabilities import COURIERS
from orders_service.db.engine import begin_write
from orders_service.db.models import CourierAddress
from orders_service.domain.errors import InvalidField, NotFound
from orders_service.geo import find_ward
from orders_service.infra.pagination import Repository


class AddressRepository(Repository[CourierAddress]):
    model_type = CourierAddress


def _check(courier: str, ward_code: int | None = None) -> None:
    if courier not in COURIERS:
        raise NotFound("courier", courier[:32])
    if ward_code is not None and find_ward(ward_code) is None:
        raise InvalidField("ward_code", f"unknown ward {ward_code} (2025 units)")


async def put_address(session: AsyncSession, courier: str, ward_code: int, ids: dict[str, Any]) -> CourierAddress:
    """Map the ward to the courier's ids, replacing what was mapped before."""
    _check(courier, ward_code)
    await begin_write(session)
    # No refresh after the insert: every column it shows was just given.
    addresses = AddressRepository(session=session, auto_refresh=False)
    row = await addresses.get_one_or_none(courier=courier, ward_code=ward_code)
    if row is None:
        return await addresses.add(CourierAddress(courier=courier, ward_code=ward_code, ids=ids))
    row.ids = ids
    await session.flush()
    return row


async def list_addresses(
    session: AsyncSession, courier: str, limit: int, offset: int
) -> tuple[list[CourierAddress], int]:
    """A page of the courier's mapped wards, by ward code, and how many it has in all."""
    _check(courier)
    rows, total = await AddressRepository(session=session).get_many_and_count(
        OrderBy("ward_code"), LimitOffset(limit, offset), courier=courier
    )
    return list(rows), total


async def delete_address(session: AsyncSession, courier: str, ward_code: int) -> None:
    """Forget the ward's mapping; NotFound when it had none."""
    _check(courier, ward_code)
    await begin_write(session)
    row = await AddressRepository(session=session).get_one_or_none(courier=courier, ward_code=ward_code)
    if row is None:
        raise NotFound("address mapping", ward_code)
    await session.delete(row)
