"""Where a session finds the shop's loyalty program: the environment's, overridden by what an admin saved in
the dashboard, carried in `session.info` and re-read from `shop_settings` at most every few seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from orders_service.db.models import ShopSetting
from orders_service.loyalty.tiers import Program, parse_tiers

PROGRAM_KEY = "loyalty_program"
FIELDS = ("tiers", "vnd_per_point", "tier_downgrade", "tier_review_days", "vnd_per_redeemed_point")


def program_from(settings: Any, saved: dict[str, Any] | None = None) -> Program:
    values = {**{f: getattr(settings, f) for f in (*FIELDS, "points_expire_days")}, **(saved or {})}
    return Program(
        tiers=parse_tiers(values["tiers"]),
        vnd_per_point=values["vnd_per_point"],
        downgrade=values["tier_downgrade"],
        review_days=values["tier_review_days"],
        vnd_per_redeemed_point=values["vnd_per_redeemed_point"],
        expire_days=values["points_expire_days"],
    )


class ProgramSource:
    """One per process: the program in force. An admin's change reaches every process within TTL seconds
    (the API's at once), for one small query per TTL instead of one per transaction."""

    TTL = 5.0

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.program = program_from(settings)
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def expire(self) -> None:
        self._read_at = None

    def refresh(self, connection: Connection) -> None:
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < self.TTL:
            return
        with self._lock:
            self._read_at = now
        saved = connection.execute(select(ShopSetting.value).where(ShopSetting.key == "loyalty")).scalar()
        try:
            self.program = program_from(self.settings, saved if isinstance(saved, dict) else None)
        except (KeyError, ValueError):  # validated when saved; a hand-edited row must not stop the shop
            self.program = program_from(self.settings)


@event.listens_for(Session, "after_begin")
def _refresh(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    source = session.info.get(PROGRAM_KEY)
    if isinstance(source, ProgramSource):
        source.refresh(connection)


def program_of(session: AsyncSession) -> Program:
    """The program the app or worker put in its sessions' `info`; the defaults otherwise (scripts, tests)."""
    found = session.info.get(PROGRAM_KEY)
    if isinstance(found, ProgramSource):
        return found.program
    return found if isinstance(found, Program) else Program()
