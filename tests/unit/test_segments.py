"""Unit tests for orders_service.loyalty.segments: each rule, the RFM scores, and segments as a pure function."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from orders_service.loyalty.segments import NAMES, Rfm, Stats, rfm, segments_of

NOW = datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC)


def days_ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def test_a_customer_who_never_bought_is_in_no_purchase_segment() -> None:
    assert segments_of(Stats(0, 0, None, None), NOW) == []
    assert rfm(Stats(0, 0, None, None), NOW) == Rfm(0, 0, 0)


def test_one_recent_order_is_new_and_promising() -> None:
    assert segments_of(Stats(1, 450_000, days_ago(3), None), NOW) == ["new", "rfm_promising"]


def test_many_recent_big_orders_are_regular_vip_champions() -> None:
    assert segments_of(Stats(6, 6_000_000, days_ago(2), None), NOW) == ["regular", "vip", "rfm_champions"]


def test_two_orders_a_month_ago_are_loyal() -> None:
    stats = Stats(2, 900_000, days_ago(45), None)
    assert rfm(stats, NOW) == Rfm(2, 2, 1)
    assert segments_of(stats, NOW) == ["regular", "rfm_loyal"]


def test_no_order_for_more_than_90_days_is_at_risk() -> None:
    assert "at_risk" not in segments_of(Stats(1, 100_000, days_ago(90), None), NOW)
    assert segments_of(Stats(1, 100_000, days_ago(91), None), NOW) == ["new", "at_risk", "rfm_hibernating"]
    assert segments_of(Stats(3, 2_000_000, days_ago(200), None), NOW) == ["regular", "at_risk", "rfm_cant_lose"]


def test_birthday_this_month_needs_no_purchase() -> None:
    assert segments_of(Stats(0, 0, None, datetime.date(1995, 11, 30)), NOW) == ["birthday_this_month"]
    assert segments_of(Stats(0, 0, None, datetime.date(1995, 12, 1)), NOW) == []


def test_vip_follows_the_programs_top_threshold() -> None:
    assert "vip" in segments_of(Stats(1, 1_000_000, days_ago(1), None, vip_spend=1_000_000), NOW)
    assert "vip" not in segments_of(Stats(1, 999_999, days_ago(1), None, vip_spend=1_000_000), NOW)
    assert "vip" not in segments_of(Stats(1, 10_000_000, days_ago(1), None, vip_spend=0), NOW)


@given(
    orders=st.integers(-3, 50),
    spend=st.integers(-1_000_000, 50_000_000),
    days=st.none() | st.integers(0, 2000),
    month=st.none() | st.integers(1, 12),
)
def test_segments_are_known_names_and_consistent(orders: int, spend: int, days: int | None, month: int | None) -> None:
    birthday = None if month is None else datetime.date(1990, month, 1)
    last = None if days is None else days_ago(days)
    names = segments_of(Stats(orders, spend, last, birthday), NOW)
    assert set(names) <= set(NAMES)
    assert len(names) == len(set(names))
    assert not {"new", "regular"} <= set(names)
    if orders <= 0:
        assert set(names) <= {"birthday_this_month"}
    scores = rfm(Stats(orders, spend, last, birthday), NOW)
    assert all(0 <= s <= 3 for s in (scores.recency, scores.frequency, scores.monetary))
