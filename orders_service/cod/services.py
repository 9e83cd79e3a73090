"""Importing a COD statement: each parcel classified against its order once, the same statement never twice
(reading them back: listing.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.cod.classify import CodChange, OrderFacts, RowStatus, classify, due_on_statement
from orders_service.cod.formats import Row
from orders_service.cod.models import CodStatement, CodStatementRow
from orders_service.cod.schemas import StatusTotal, TotalsOut
from orders_service.db.engine import begin_write
from orders_service.db.models import Order, OrderEvent, Shipment
from orders_service.domain.errors import InvalidField

T = TypeVar("T")
CHUNK = 500  # ids per IN (...): SQLite's bound on variables is far above it, and so is PostgreSQL's


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for first in range(0, len(items), CHUNK):
        yield items[first : first + CHUNK]


def content_hash(courier: str, rows: Sequence[Row]) -> str:
    """The same parcels and amounts make the same statement, in whatever order or shape (JSON, CSV) they came."""
    body = sorted([r.tracking_code, r.cod_collected, r.fee] for r in rows)
    return hashlib.sha256(json.dumps([courier, body], ensure_ascii=False).encode()).hexdigest()


async def _facts(session: AsyncSession, courier: str, codes: Sequence[str]) -> dict[str, tuple[UUID, OrderFacts]]:
    """Each tracking code's order (a parcel of ours at this courier): what it says now and its story."""
    found: dict[str, tuple[UUID, OrderFacts]] = {}
    parcels: list[Any] = []
    for chunk in _chunks(codes):
        query = (
            select(Shipment, Order.code, Order.status, Order.cod_amount)
            .join(Order, Order.id == Shipment.order_id)
            .where(Shipment.courier == courier, Shipment.tracking_code.in_(chunk))
        )
        parcels.extend((await session.execute(query)).tuples())
    order_ids = [s.order_id for s, *_ in parcels]
    events: dict[UUID, list[CodChange]] = {}
    for chunk in _chunks(order_ids):
        query = (
            select(OrderEvent.order_id, OrderEvent.version, OrderEvent.type)
            .add_columns(OrderEvent.cod_before, OrderEvent.cod_after)
            .where(OrderEvent.order_id.in_(chunk))
            .order_by(OrderEvent.order_id, OrderEvent.seq)
        )
        for order_id, version, kind, before, after in await session.execute(query):
            events.setdefault(order_id, []).append(CodChange(version, kind, before, after))
    for shipment, code, status, cod_amount in parcels:
        facts = OrderFacts(
            code=code,
            status=status,
            cod_due=due_on_statement(status, cod_amount),
            events=events.get(shipment.order_id, []),
            acknowledged_version=shipment.synced_version,
            acknowledged_cod=shipment.cod_amount,
            reported_cod=shipment.cod_collected,
        )
        found[str(shipment.tracking_code)] = (shipment.order_id, facts)
    return found


async def _counted_before(session: AsyncSession, courier: str, codes: Sequence[str]) -> dict[str, UUID]:
    """Parcels an earlier statement of this courier already listed against an order: the statement that did."""
    found: dict[str, UUID] = {}
    for chunk in _chunks(codes):
        query = (
            select(CodStatementRow.tracking_code, CodStatementRow.statement_id)
            .where(
                CodStatementRow.courier == courier,
                CodStatementRow.tracking_code.in_(chunk),
                CodStatementRow.status != str(RowStatus.UNKNOWN),
                CodStatementRow.already_on.is_(None),
            )
            .order_by(CodStatementRow.id)
        )
        for code, statement_id in await session.execute(query):
            found.setdefault(code, statement_id)
    return found


def totals(rows: Sequence[CodStatementRow]) -> TotalsOut:
    """Per status and overall, in VND; a row counted on an earlier statement adds to `rows` only."""
    per = {status: StatusTotal(rows=0, cod_collected=0, fee=0, expected=0) for status in RowStatus}
    again = 0
    for row in rows:
        if row.already_on is not None:
            again += 1
            continue
        total = per[RowStatus(row.status)]
        total.rows += 1
        total.cod_collected += row.cod_collected
        total.fee += row.fee
        total.expected += row.expected or 0
    counted = list(per.values())
    collected, fee = sum(t.cod_collected for t in counted), sum(t.fee for t in counted)
    known = [per[RowStatus.MATCHED], per[RowStatus.MISMATCH]]
    expected = sum(t.expected for t in known)
    return TotalsOut(
        rows=len(rows),
        already_reconciled=again,
        matched=per[RowStatus.MATCHED],
        mismatch=per[RowStatus.MISMATCH],
        unknown=per[RowStatus.UNKNOWN],
        cod_collected=collected,
        fee=fee,
        payout=collected - fee,
        expected=expected,
        difference=sum(t.cod_collected for t in known) - expected,
    )


async def import_statement(
    session: AsyncSession, courier: str, rows: Sequence[Row], source: str, reference: str | None, created_by: str
) -> tuple[CodStatement, bool]:
    """Classify and keep a statement; (statement, True) if it is new. The same statement again (same parcels and
    amounts, or the same courier reference) finds the first one and changes nothing."""
    digest = content_hash(courier, rows)
    await begin_write(session)
    existing = await _existing(session, courier, digest, reference)
    if existing is not None:
        return existing, False
    codes = list(dict.fromkeys(r.tracking_code for r in rows))
    orders = await _facts(session, courier, codes)
    before = await _counted_before(session, courier, codes)
    made, repeats, seen = [], [], set()
    for position, item in enumerate(rows):
        order_id, facts = orders.get(item.tracking_code, (None, None))
        verdict = classify(courier, item.tracking_code, item.cod_collected, facts)
        row = CodStatementRow(
            position=position,
            courier=courier,
            tracking_code=item.tracking_code,
            cod_collected=item.cod_collected,
            fee=item.fee,
            status=str(verdict.status),
            expected=verdict.expected,
            explanation=verdict.explanation,
            order_id=order_id,
            already_on=before.get(item.tracking_code),
        )
        if row.already_on is None and verdict.status is not RowStatus.UNKNOWN and item.tracking_code in seen:
            repeats.append(row)  # the same parcel twice in one statement: counted at its first line
        seen.add(item.tracking_code)
        made.append(row)
    repeated = {id(row) for row in repeats}
    mismatches = sum(
        1 for r in made if r.status == RowStatus.MISMATCH and r.already_on is None and id(r) not in repeated
    )
    statement = CodStatement(
        courier=courier,
        reference=reference,
        content_hash=digest,
        source=source,
        created_by=created_by[:64],
        row_count=len(made),
        mismatches=mismatches,
    )
    try:
        async with session.begin_nested():
            session.add(statement)
            await session.flush()
            for row in made:
                row.statement_id = statement.id
            for row in repeats:
                row.already_on = statement.id
            statement.totals = msgspec.to_builtins(totals(made))
            session.add_all(made)
            await session.flush()
    except IntegrityError:  # the same statement committed meanwhile by another request (PostgreSQL)
        found = await _existing(session, courier, digest, reference)
        if found is None:
            raise
        return found, False
    return statement, True


async def _existing(session: AsyncSession, courier: str, digest: str, reference: str | None) -> CodStatement | None:
    found = await session.scalar(select(CodStatement).where(CodStatement.content_hash == digest))
    if found is not None or reference is None:
        return found
    named = await session.scalar(
        select(CodStatement).where(CodStatement.courier == courier, CodStatement.reference == reference)
    )
    if named is not None:
        raise InvalidField("reference", f"{courier} statement {reference} was imported already, with other rows")
    return None
