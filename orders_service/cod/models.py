"""Tables: a courier's COD statement ("đối soát COD") as imported, and its rows as classified then."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orders_service.infra import clock


def _now() -> datetime.datetime:
    return clock.now()


class CodStatement(UUIDv7Base):
    """One statement as it was imported. `content_hash` (courier and rows, in any order) makes a second import of
    the same statement find this one; `reference` is the courier's own statement id, when the import gave one."""

    __tablename__ = "cod_statements"
    __table_args__ = (UniqueConstraint("courier", "reference", name="uq_cod_statements_courier_reference"),)

    courier: Mapped[str] = mapped_column(String(16), index=True)
    reference: Mapped[str | None] = mapped_column(String(64), default=None)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(8))  # json | csv | ghn | ghtk: the shape it came in
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(64))
    # Kept for the lists (mismatches first): the rows never change once classified.
    row_count: Mapped[int] = mapped_column(Integer)
    mismatches: Mapped[int] = mapped_column(Integer, index=True)
    totals: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)


class CodStatementRow(UUIDv7Base):
    """One parcel of a statement: what the courier reports, and what the order said then (`expected`, `explanation`).

    `already_on` names the statement that counted this parcel first: the row is shown, not counted again.
    """

    __tablename__ = "cod_statement_rows"
    __table_args__ = (Index("ix_cod_statement_rows_courier_tracking", "courier", "tracking_code"),)

    statement_id: Mapped[UUID] = mapped_column(ForeignKey("cod_statements.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    courier: Mapped[str] = mapped_column(String(16))
    tracking_code: Mapped[str] = mapped_column(String(64))
    cod_collected: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # matched | mismatch | unknown
    expected: Mapped[int | None] = mapped_column(BigInteger, default=None)
    explanation: Mapped[str | None] = mapped_column(Text, default=None)
    order_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None, index=True
    )
    already_on: Mapped[UUID | None] = mapped_column(ForeignKey("cod_statements.id"), default=None)
