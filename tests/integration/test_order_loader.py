"""The order read by one Core statement and made into rows by hand (orders/loader.py) is the order the ORM
loads: every column of the order, its lines, shipment and parcel, persistent in the session with nothing for a
flush to write. An amendment then loads no order through the ORM's machinery (counted by its `load` event)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from orders_service.catalogue.models import OrderParcel
from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderLine, Shipment
from orders_service.infra.settings import Settings
from orders_service.orders import services
from tests.integration.api import Api, Shipping
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_stock import catalogue, create, dress, tryon_shirt

pytestmark = pytest.mark.anyio
__all__ = ["catalogue"]  # a fixture this module uses


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def columns(instance: Any) -> dict[str, Any]:
    return {attr.key: getattr(instance, attr.key) for attr in inspect(type(instance)).column_attrs}


async def orm_read(db: async_sessionmaker[AsyncSession], order_id: UUID) -> dict[str, Any]:
    async with db() as session:
        query = select(OrderRow).where(OrderRow.id == order_id)
        query = query.options(selectinload(OrderRow.lines), selectinload(OrderRow.shipment))
        row = (await session.scalars(query.options(selectinload(OrderRow.parcel)))).one()
        return snapshot(row)


def snapshot(row: OrderRow) -> dict[str, Any]:
    return {
        "order": columns(row),
        "lines": [columns(line) for line in row.lines],
        "shipment": None if row.shipment is None else columns(row.shipment),
        "parcel": None if row.parcel is None else columns(row.parcel),
    }


async def test_the_order_read_by_hand_is_the_order_the_orm_loads(
    api: Api, catalogue: None, db: async_sessionmaker[AsyncSession]
) -> None:
    made = await create(api, dress(quantity=2), tryon_shirt(), {"sku": "GIFT", "name": "Quà", "unit_price": 0})
    assert made.status_code == 201, made.text
    shipped = await Shipping(api).ship(made.json())
    order_id = UUID(shipped["id"])

    for attempt in range(1, 31):
        session = db()
        await begin_write(session)
        row = await services.get_order(session, order_id, lock=True)
        # The ORM's read while the lock holds. The relay may still be writing the shipment (its lease) a moment
        # after the sync: then the two reads differ, and are read again. A difference of the reads themselves
        # stays whatever the relay does, and fails below.
        expected = await orm_read(db, order_id)
        if snapshot(row) == expected or attempt == 30:
            break
        await session.close()
        await asyncio.sleep(0.1)
    async with session:
        assert expected["shipment"] is not None and expected["parcel"] is not None and len(expected["lines"]) == 3
        assert snapshot(row) == expected
        for instance in (row, *row.lines, row.shipment, row.parcel):
            assert inspect(instance).persistent, instance
            assert instance in session
        assert [line.order for line in row.lines] == [row] * 3
        assert not session.dirty and not session.new
        row.note = "giao giờ hành chính"  # a change is tracked as on any loaded row
        assert session.is_modified(row)
        await session.rollback()


async def test_an_order_without_shipment_or_parcel_reads_as_such(
    api: Api, db: async_sessionmaker[AsyncSession]
) -> None:
    order = await api.create_order()
    async with db() as session:
        row = await services.get_order(session, UUID(order["id"]))
        assert (row.shipment, row.parcel, len(row.lines)) == (None, None, 1)
        assert snapshot(row) == await orm_read(db, UUID(order["id"]))


async def test_an_amendment_loads_no_order_through_the_orm(api: Api) -> None:
    order = await api.create_order()
    loaded: list[str] = []

    def count(target: Any, _context: Any) -> None:
        loaded.append(type(target).__name__)

    classes = (OrderRow, OrderLine, Shipment, OrderParcel)
    for cls in classes:
        event.listen(cls, "load", count)
    try:
        response = await api.amend(order, {"op": "set_quantity", "line_id": order["lines"][0]["id"], "quantity": 3})
    finally:
        for cls in classes:
            event.remove(cls, "load", count)
    assert response.status_code == 200, response.text
    assert response.json()["lines"][0]["quantity"] == 3
    assert loaded == []  # before: the order and its line, through the ORM's joined load


async def test_a_locked_read_of_an_order_the_session_holds_is_the_order_as_committed_since(
    api: Api, db: async_sessionmaker[AsyncSession]
) -> None:
    """A session that read the order before it locks it (a ship with a body: the courier choice reads it, ends its
    read and asks the couriers for quotes, then the ship locks it) gets the order as committed meanwhile. Before,
    the locked read kept the instance as first read (the ORM does not overwrite loaded attributes): the If-Match
    check and the ship's transition compared a version and a status that were no longer the order's."""
    order = await api.create_order()
    async with db() as session:
        held = await services.get_order(session, UUID(order["id"]))
        await session.commit()  # as choose() ends its reads
        line = order["lines"][0]["id"]
        amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
        assert amended.status_code == 200, amended.text
        await begin_write(session)
        locked = await services.get_order(session, UUID(order["id"]), lock=True)
        assert locked is held
        assert (locked.version, locked.lines[0].quantity, locked.cod_amount) == (2, 2, amended.json()["cod_amount"])
        await session.rollback()
