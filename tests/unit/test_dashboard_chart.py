"""The spend chart and tier progress: months in Vietnam's calendar, bars scaled to the best month."""

from __future__ import annotations

import datetime

from orders_service.dashboard.chart import HEIGHT, WIDTH, bars, monthly, tier_progress
from orders_service.loyalty.tiers import Program

UTC = datetime.UTC


def test_months_follow_vietnams_calendar_and_net_out_returns() -> None:
    now = datetime.datetime(2026, 3, 10, tzinfo=UTC)
    entries = [
        (datetime.datetime(2026, 2, 28, 18, 0, tzinfo=UTC), 500_000),  # 01:00 on 1 March in Vietnam
        (datetime.datetime(2026, 3, 2, tzinfo=UTC), -200_000),  # a return
        (datetime.datetime(2026, 1, 5, tzinfo=UTC), 1_000_000),
        (datetime.datetime(2024, 1, 5, tzinfo=UTC), 9_000_000),  # older than the window
    ]
    series = monthly(entries, now, months=3)
    assert series == [("01/26", 1_000_000), ("02/26", 0), ("03/26", 300_000)]


def test_bars_scale_to_the_best_month_and_stay_inside_the_picture() -> None:
    drawn = bars([("01/26", 1_000_000), ("02/26", 0), ("03/26", 250_000), ("04/26", -5)])
    assert [b.label for b in drawn] == ["01/26", "02/26", "03/26", "04/26"]
    tallest, empty, quarter, negative = drawn
    assert empty.height == 0 and negative.height == 0
    assert abs(quarter.height * 4 - tallest.height) < 1e-6
    for bar in drawn:
        assert bar.x >= 0 and bar.x + bar.width <= WIDTH and 0 <= bar.y <= HEIGHT
    assert bars([]) == []


def test_tier_progress_between_thresholds() -> None:
    program = Program()  # member 0 -> standard 0 (one order) -> gold 5,000,000
    assert tier_progress(program, "standard", 2_500_000) == 50
    assert tier_progress(program, "standard", 9_000_000) == 100
    assert tier_progress(program, "gold", 9_000_000) == 100  # the top tier
    assert tier_progress(program, "member", 0) == 0
