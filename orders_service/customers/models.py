"""The audit of what was done with a customer's personal data: exports and erasures (Decree 13/2023)."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from orders_service.infra import clock


def _now() -> datetime.datetime:
    return clock.now()


class CustomerAudit(UUIDv7Base):
    """Who exported or erased a customer's data, when, and what it touched; never itself erased."""

    __tablename__ = "customer_audit"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # export | erase | update
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
