"""Where a session finds the shop's loyalty program: built once from the settings, carried in `session.info`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.loyalty.tiers import Program, parse_tiers

PROGRAM_KEY = "loyalty_program"


def program_from(settings: Any) -> Program:
    return Program(
        tiers=parse_tiers(settings.tiers),
        vnd_per_point=settings.vnd_per_point,
        downgrade=settings.tier_downgrade,
        review_days=settings.tier_review_days,
        vnd_per_redeemed_point=settings.vnd_per_redeemed_point,
        expire_days=settings.points_expire_days,
    )


def program_of(session: AsyncSession) -> Program:
    """The program the app or worker put in its sessions' `info`; the defaults otherwise (scripts, tests)."""
    program = session.info.get(PROGRAM_KEY)
    return program if isinstance(program, Program) else Program()
