"""COD statements read back: one with its rows, the list (mismatches first on the dashboard), totals per courier,
and the orders delivered long ago that no statement has listed yet."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from advanced_alchemy.filters import LimitOffset, OrderBy
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.cod.classify import DELIVERED, RowStatus
from orders_service.cod.models import CodStatement, CodStatementRow
from orders_service.cod.schemas import StatementOut, StatementRowOut, StatementSummaryOut, StatusTotal, TotalsOut
from orders_service.db.models import Order, Shipment
from orders_service.domain.errors import NotFound
from orders_service.infra import clock
from orders_service.infra.pagination import Repository, given


async def get_statement(session: AsyncSession, statement_id: UUID) -> CodStatement:
    found = await session.get(CodStatement, statement_id)
    if found is None:
        raise NotFound("COD statement", statement_id)
    return found


async def statement_rows(session: AsyncSession, statement_id: UUID) -> list[StatementRowOut]:
    query = (
        select(CodStatementRow, Order.code)
        .outerjoin(Order, Order.id == CodStatementRow.order_id)
        .where(CodStatementRow.statement_id == statement_id)
        .order_by(CodStatementRow.position)
    )
    return [
        StatementRowOut(
            tracking_code=row.tracking_code,
            cod_collected=row.cod_collected,
            fee=row.fee,
            status=RowStatus(row.status),
            expected=row.expected,
            explanation=row.explanation,
            order_id=row.order_id,
            order_code=code,
            already_on=row.already_on,
        )
        for row, code in await session.execute(query)
    ]


async def statement_out(session: AsyncSession, statement: CodStatement) -> StatementOut:
    return StatementOut(
        id=statement.id,
        courier=statement.courier,
        reference=statement.reference,
        source=statement.source,
        created_at=statement.created_at,
        created_by=statement.created_by,
        rows=await statement_rows(session, statement.id),
        totals=msgspec.convert(statement.totals, TotalsOut),
    )


def summary_out(statement: CodStatement) -> StatementSummaryOut:
    return StatementSummaryOut(
        id=statement.id,
        courier=statement.courier,
        reference=statement.reference,
        source=statement.source,
        created_at=statement.created_at,
        created_by=statement.created_by,
        row_count=statement.row_count,
        mismatches=statement.mismatches,
        totals=msgspec.convert(statement.totals, TotalsOut),
    )


class StatementRepository(Repository[CodStatement]):
    model_type = CodStatement


async def list_statements(
    session: AsyncSession, courier: str | None, limit: int, offset: int, mismatches_first: bool = False
) -> tuple[list[CodStatement], int]:
    """Newest first; the dashboard puts statements with mismatches before the others."""
    order = [OrderBy("mismatches", "desc")] if mismatches_first else []
    rows, total = await StatementRepository(session=session).get_many_and_count(
        *order,
        OrderBy("created_at", "desc"),
        OrderBy("id", "desc"),
        LimitOffset(limit, offset),
        **given(courier=courier),
    )
    return list(rows), total


async def courier_totals(session: AsyncSession) -> dict[str, dict[str, StatusTotal]]:
    """Per courier and row status, over every statement: rows, VND collected, fees, VND expected."""
    query = (
        select(
            CodStatementRow.courier,
            CodStatementRow.status,
            func.count(),
            func.coalesce(func.sum(CodStatementRow.cod_collected), 0),
            func.coalesce(func.sum(CodStatementRow.fee), 0),
            func.coalesce(func.sum(CodStatementRow.expected), 0),
        )
        .where(CodStatementRow.already_on.is_(None))
        .group_by(CodStatementRow.courier, CodStatementRow.status)
    )
    found: dict[str, dict[str, StatusTotal]] = {}
    for courier, status, count, collected, fee, expected in await session.execute(query):
        found.setdefault(courier, {})[status] = StatusTotal(
            rows=int(count), cod_collected=int(collected), fee=int(fee), expected=int(expected)
        )
    return found


async def not_on_any_statement(
    session: AsyncSession, days: int, limit: int, now: datetime.datetime | None = None
) -> tuple[list[Any], int]:
    """Orders delivered more than `days` ago that no statement has listed: (order, shipment) pairs, oldest first."""
    since = (now or clock.now()) - datetime.timedelta(days=days)
    delivered_at = func.coalesce(Shipment.status_at, Order.updated_at)
    listed = exists().where(CodStatementRow.order_id == Order.id, CodStatementRow.status != str(RowStatus.UNKNOWN))
    where = (Order.status.in_(sorted(DELIVERED)), delivered_at <= since, ~listed)
    total = await session.scalar(
        select(func.count()).select_from(Order).join(Shipment, Shipment.order_id == Order.id).where(*where)
    )
    query = (
        select(Order.id, Order.code, Order.courier, Order.cod_amount, Shipment.tracking_code)
        .add_columns(delivered_at.label("delivered_at"))
        .join(Shipment, Shipment.order_id == Order.id)
        .where(*where)
        .order_by(delivered_at, Order.id)
        .limit(limit)
    )
    return list((await session.execute(query)).all()), int(total or 0)
