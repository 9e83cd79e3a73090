"""Redeeming and expiring points: the redeem_points amendment's money and the ledger's lots, pure."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_service.domain import operations as ops
from orders_service.domain.amend import amend
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.model import Actor, ActorKind, OrderStatus
from orders_service.domain.money import compute_totals
from orders_service.infra.settings import Settings
from orders_service.loyalty import ledger
from orders_service.loyalty.ledger import Entry, Kind
from orders_service.loyalty.tiers import Program
from orders_service.orders.outside import OUTSIDE
from tests.unit.test_amend_examples import base, ids

NOW = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
CUSTOMER = Actor(kind=ActorKind.CUSTOMER)


def test_redeemed_points_pay_like_money_at_the_configured_value() -> None:
    order = base()  # 1,310,000 VND due
    after = amend(order, [ops.RedeemPoints(points=300)], CUSTOMER, ids(500), outside=OUTSIDE)
    assert (after.paid, compute_totals(after).cod_amount) == (300_000, 1_010_000)
    dearer = amend(
        order, [ops.RedeemPoints(points=300)], CUSTOMER, ids(500), vnd_per_redeemed_point=2_000, outside=OUTSIDE
    )
    assert compute_totals(dearer).cod_amount == 710_000


def test_points_never_pay_more_than_is_due() -> None:
    assert (
        compute_totals(amend(base(), [ops.RedeemPoints(points=1_310)], CUSTOMER, ids(500), outside=OUTSIDE)).cod_amount
        == 0
    )
    with pytest.raises(InvalidField) as refused:
        amend(
            base(),
            [ops.AddPayment(amount=10_000), ops.RedeemPoints(points=1_310)],
            Actor(ActorKind.STAFF),
            ids(9),
            outside=OUTSIDE,
        )
    assert refused.value.field == "operations[1].points"
    assert "at most 1300 points" in refused.value.message


def test_points_are_not_redeemed_after_pickup() -> None:
    with pytest.raises(OrderNotAmendable, match="points are spent before pickup"):
        amend(base(OrderStatus.IN_TRANSIT), [ops.RedeemPoints(points=1)], CUSTOMER, ids(500), "picked", outside=OUTSIDE)


def test_earned_points_expire_after_the_configured_days() -> None:
    assert Program().expires_at(NOW) == NOW + 365 * DAY
    assert Program(expire_days=30).expires_at(NOW) == NOW + 30 * DAY
    assert Program(expire_days=0).expires_at(NOW) is None
    assert Settings.from_env({"ORDERS_POINTS_EXPIRE_DAYS": "0"}).points_expire_days == 0
    assert Settings.from_env({}).vnd_per_redeemed_point == 1_000
    with pytest.raises(ValueError, match="ORDERS_POINTS_EXPIRE_DAYS must be a whole number of at least 0"):
        Settings.from_env({"ORDERS_POINTS_EXPIRE_DAYS": "-1"})


def earn(order: str, points: int, expires: datetime.datetime | None) -> Entry:
    return Entry(Kind.EARN, points, points * 10_000, 1, order, expires_at=expires)


def test_redemptions_spend_the_oldest_lot_first_and_only_the_rest_expires() -> None:
    entries = [
        earn("A", 100, NOW - DAY),
        earn("B", 50, NOW + DAY),
        Entry(Kind.REDEEM, -120, 0, 0, "X", "v2"),
    ]
    assert [(lot.order_id, lot.points) for lot in ledger.lots(entries)] == [("A", 0), ("B", 30)]
    assert ledger.spendable(entries, NOW) == 30
    assert ledger.expired(entries, NOW) == [Entry(Kind.EXPIRE, 0, 0, 0, "A")]  # closes A, writes off nothing
    assert ledger.expired(entries, NOW + 2 * DAY) == [
        Entry(Kind.EXPIRE, 0, 0, 0, "A"),
        Entry(Kind.EXPIRE, -30, 0, 0, "B"),
    ]


def test_expiry_is_written_once_and_a_lapsed_lot_cannot_be_spent() -> None:
    entries = [earn("A", 100, NOW - DAY), earn("B", 50, None)]
    assert ledger.spendable(entries, NOW) == 50  # A lapsed even before the schedule wrote it off
    due = ledger.expired(entries, NOW)
    assert due == [Entry(Kind.EXPIRE, -100, 0, 0, "A")]
    entries += due
    assert ledger.expired(entries, NOW + 400 * DAY) == []
    assert ledger.totals(entries).points == 50 == ledger.spendable(entries, NOW)


def test_a_return_reverses_its_own_lot_first() -> None:
    entries = [earn("A", 100, NOW + DAY), earn("B", 50, NOW + 9 * DAY), Entry(Kind.REVERSE, -50, 0, -1, "B", "all")]
    assert [lot.points for lot in ledger.lots(entries)] == [100, 0]


KINDS = st.sampled_from([Kind.EARN, Kind.REDEEM, Kind.REVERSE, Kind.ADJUST, Kind.EXPIRE])


@given(st.lists(st.tuples(KINDS, st.integers(1, 500), st.integers(0, 4), st.integers(-5, 5)), max_size=30))
def test_balance_equals_the_sum_of_live_lots(steps: list[tuple[Kind, int, int, int]]) -> None:
    """Whatever comes in and goes out (never below zero, as the services keep it), lots account for every point."""
    entries: list[Entry] = []
    for kind, points, order, days in steps:
        if kind is Kind.EXPIRE:
            entries += ledger.expired(entries, NOW + days * DAY)
            continue
        if kind in (Kind.EARN, Kind.ADJUST):
            entries.append(Entry(kind, points, 0, 0, f"o{len(entries)}", expires_at=NOW + days * DAY))
            continue
        held = ledger.totals(entries).points
        entries.append(Entry(kind, -min(points, held), 0, 0, f"o{order}"))
    lots = ledger.lots(entries)
    assert ledger.totals(entries).points == sum(lot.points for lot in lots)
    assert all(lot.points >= 0 for lot in lots)
    assert 0 <= ledger.spendable(entries, NOW) <= ledger.totals(entries).points
