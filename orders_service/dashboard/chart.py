"""Spend over time as bars, drawn server-side as SVG: pure functions from ledger entries to geometry."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from orders_service.dashboard.pages import VIETNAM
from orders_service.loyalty.tiers import Program

WIDTH, HEIGHT, BOTTOM = 600, 220, 24  # the SVG's viewBox; BOTTOM is the labels' band


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # MM/YY
    value: int  # VND spent that month, net of returns


def monthly(
    entries: Iterable[tuple[datetime.datetime, int]], now: datetime.datetime, months: int = 12
) -> list[tuple[str, int]]:
    """The last `months` calendar months (Vietnam's calendar) up to `now`, each with its net spend."""
    today = now.astimezone(VIETNAM)
    keys = []
    year, month = today.year, today.month
    for _ in range(months):
        keys.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    sums = dict.fromkeys(keys, 0)
    for at, spend in entries:
        local = (at if at.tzinfo else at.replace(tzinfo=datetime.UTC)).astimezone(VIETNAM)
        if (local.year, local.month) in sums:
            sums[(local.year, local.month)] += spend
    return [(f"{m:02d}/{y % 100:02d}", sums[(y, m)]) for y, m in keys]


def bars(series: list[tuple[str, int]]) -> list[Bar]:
    """One bar per month, scaled to the largest; a month with net returns draws no bar below zero."""
    if not series:
        return []
    top = max(max(value for _, value in series), 1)
    slot = WIDTH / len(series)
    usable = HEIGHT - BOTTOM - 8
    found = []
    for index, (label, value) in enumerate(series):
        height = usable * max(value, 0) / top
        found.append(Bar(index * slot + slot * 0.15, HEIGHT - BOTTOM - height, slot * 0.7, height, label, value))
    return found


def tier_progress(program: Program, tier: str, spend: int) -> int:
    """How far, in percent, her lifetime spend has come from her tier's threshold to the next one's."""
    rank = program.rank(tier)
    if rank + 1 >= len(program.tiers):
        return 100
    low, high = program.tiers[rank].min_spend, program.tiers[rank + 1].min_spend
    if high <= low:
        return 0  # the next tier asks for a completed order, not more spend: the bar waits for that order
    return max(0, min(100, (spend - low) * 100 // (high - low)))
