"""Table: return requests, one per ask of a customer (or of staff for her), with the items asked back."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from orders_service.infra import clock


def _now() -> datetime.datetime:
    return clock.now()


class ReturnRequest(UUIDv7Base):
    """Items asked back of a delivered order, and the decision. `items`: [{sku, name, size, color, unit_price,
    quantity, value}], value being the goods' kept price; `refund` is value less its share of the discount."""

    __tablename__ = "return_requests"
    __table_args__ = (Index("ix_return_requests_state_created", "state", "created_at"),)

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="requested")  # requested | approved | rejected
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    reason: Mapped[str] = mapped_column(String(500))
    refund: Mapped[int] = mapped_column(BigInteger)
    requested_by_kind: Mapped[str] = mapped_column(String(16))  # customer | staff
    requested_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    decision_note: Mapped[str | None] = mapped_column(String(500), default=None)
