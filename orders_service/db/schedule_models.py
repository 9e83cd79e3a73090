"""Ship requests held by the edit window: the order goes to its courier at `ship_at`, unless staff send it sooner.

Its own module: db/models.py is kept under 400 lines. models.py imports it at its end, so the table is on the
same metadata wherever the models are.
"""

from __future__ import annotations

import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


class ShipSchedule(UUIDv7Base):
    """One per order at most: the courier staff (or the shop's rule) chose, and when it is handed over."""

    __tablename__ = "ship_schedules"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    ship_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    courier: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(64), default=None)
