"""Tier evaluation and ledger rules: pure functions, examples and properties."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_service.infra.settings import Settings
from orders_service.loyalty import ledger
from orders_service.loyalty.ledger import Entry, Kind
from orders_service.loyalty.tiers import Program, evaluate, next_tier, parse_tiers, qualifying

NOW = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
DEFAULT = Program()


@pytest.mark.parametrize(
    ("spend", "orders", "tier"),
    [
        (0, 0, "member"),
        (10_000, 1, "standard"),
        (4_999_999, 3, "standard"),
        (5_000_000, 1, "gold"),
        (5_000_000, 0, "member"),
    ],
)
def test_default_tiers(spend: int, orders: int, tier: str) -> None:
    assert qualifying(DEFAULT, spend, orders).code == tier


def test_upgrade_at_once_and_the_history_reason() -> None:
    decision = evaluate(DEFAULT, "standard", None, 5_200_000, 2, NOW, None)
    assert (decision.tier, decision.reason) == ("gold", "reached gold")
    assert decision.review_at == NOW + datetime.timedelta(days=365)
    assert evaluate(DEFAULT, None, None, 0, 0, NOW, None).reason is None  # a member stays one, no history


@pytest.mark.parametrize(
    ("rule", "review_at", "tier"),
    [
        ("never", None, "gold"),
        ("immediate", NOW + datetime.timedelta(days=100), "standard"),
        ("review", NOW + datetime.timedelta(days=1), "gold"),  # not yet
        ("review", NOW - datetime.timedelta(days=1), "standard"),  # the review date has come
    ],
)
def test_downgrade_follows_the_rule(rule: str, review_at: datetime.datetime | None, tier: str) -> None:
    program = Program(downgrade=rule)
    assert evaluate(program, "gold", None, 450_000, 1, NOW, review_at).tier == tier


def test_a_review_that_changes_nothing_moves_the_next_review_on() -> None:
    program = Program(downgrade="review", review_days=30)
    due = evaluate(program, "gold", None, 6_000_000, 2, NOW, NOW - datetime.timedelta(days=1))
    assert (due.tier, due.reason, due.review_at) == ("gold", None, NOW + datetime.timedelta(days=30))
    early = evaluate(program, "gold", None, 6_000_000, 2, NOW, NOW + datetime.timedelta(days=3))
    assert early.review_at == NOW + datetime.timedelta(days=3)


def test_the_manual_floor_holds() -> None:
    program = Program(downgrade="immediate")
    decision = evaluate(program, "gold", "gold", 0, 0, NOW, None)
    assert (decision.tier, decision.reason) == ("gold", None)
    raised = evaluate(program, "member", "standard", 0, 0, NOW, None)
    assert (raised.tier, raised.reason) == ("standard", "manual floor standard")


def test_next_tier() -> None:
    assert next_tier(DEFAULT, "standard", 450_000) == ("gold", 4_550_000)
    assert next_tier(DEFAULT, "member", 0) == ("standard", 0)  # only an order is missing
    assert next_tier(DEFAULT, "gold", 9_000_000) == (None, None)


def test_earn_counts_goods_after_discount_one_point_per_10000() -> None:
    entry = ledger.earn(DEFAULT, "o1", 4_689_999)
    assert (entry.kind, entry.points, entry.spend, entry.orders_delta) == (Kind.EARN, 468, 4_689_999, 1)


def test_a_partial_reversal_keeps_the_order_counted() -> None:
    earned = [ledger.earn(DEFAULT, "o1", 1_200_000)]
    part = ledger.reverse(earned, ledger.totals(earned), "o1", returned_spend=400_000, ref="r1")
    assert part is not None and (part.points, part.spend, part.orders_delta, part.ref) == (-40, -400_000, 0, "r1")
    rest = ledger.reverse([*earned, part], ledger.totals([*earned, part]), "o1")
    assert rest is not None and (rest.points, rest.spend, rest.orders_delta) == (-80, -800_000, -1)
    assert ledger.reverse([*earned, part, rest], ledger.totals([*earned, part, rest]), "o1") is None


def test_a_reversal_never_takes_points_below_zero() -> None:
    earned = ledger.earn(DEFAULT, "o1", 1_000_000)
    redeemed = Entry(Kind.REDEEM, -90, 0, 0)
    undo = ledger.reverse([earned], ledger.totals([earned, redeemed]), "o1")
    assert undo is not None and undo.points == -10 and undo.spend == -1_000_000


@pytest.mark.parametrize(
    ("born", "group"), [((2010, 1, 1), "under 18"), ((1998, 11, 24), "25-30"), ((1960, 5, 5), "51+")]
)
def test_age_group(born: tuple[int, int, int], group: str) -> None:
    assert ledger.age_group(datetime.date(*born), NOW.date()) == group
    assert ledger.age_group(None, NOW.date()) is None


def test_status_thresholds() -> None:
    assert [ledger.status(o, s, 5_000_000) for o, s in [(0, 0), (1, 10), (2, 10), (1, 6_000_000)]] == [
        "never_purchased",
        "new",
        "regular",
        "vip",
    ]


events = st.lists(
    st.tuples(st.sampled_from(["complete", "return", "partial"]), st.integers(0, 4), st.integers(0, 9_000_000)),
    max_size=40,
)


@given(events)
def test_no_sequence_of_completions_and_returns_goes_negative(sequence: list[tuple[str, int, int]]) -> None:
    """Duplicates included: every entry is written under its unique key, once, as the service does."""
    book: dict[tuple[str, str, str], Entry] = {}
    balance = 0
    for step, (what, order, amount) in enumerate(sequence):
        order_id = f"o{order}"
        mine = [e for (o, _, _), e in book.items() if o == order_id]
        held = ledger.totals(book.values())
        if what == "complete":
            entry: Entry | None = ledger.earn(DEFAULT, order_id, amount)
        elif not any(e.kind is Kind.EARN for e in mine):
            entry = None  # nothing was completed, nothing comes back
        elif what == "partial":
            entry = ledger.reverse(mine, held, order_id, returned_spend=amount, ref=f"r{step}")
        else:
            entry = ledger.reverse(mine, held, order_id)
        if entry is None or (order_id, str(entry.kind), entry.ref) in book:
            continue
        book[(order_id, str(entry.kind), entry.ref)] = entry
        balance += entry.points
        totals = ledger.totals(book.values())
        assert balance == totals.points == sum(e.points for e in book.values())
        assert totals.points >= 0 and totals.spend >= 0 and totals.orders >= 0
        for o in {k[0] for k in book}:
            left = ledger.totals(e for (oid, _, _), e in book.items() if oid == o)
            assert left.points >= 0 and left.spend >= 0 and left.orders in (0, 1)


@given(
    st.sampled_from(["member", "standard", "gold"]),
    st.one_of(st.none(), st.sampled_from(["member", "standard", "gold"])),
    st.integers(0, 10_000_000),
    st.integers(0, 5),
    st.sampled_from(["never", "review", "immediate"]),
)
def test_evaluation_never_below_floor_and_never_down_without_the_rule(
    current: str, floor: str | None, spend: int, orders: int, rule: str
) -> None:
    program = Program(downgrade=rule)
    decision = evaluate(program, current, floor, spend, orders, NOW, NOW + datetime.timedelta(days=1))
    rank = program.rank
    assert rank(decision.tier) >= rank(qualifying(program, spend, orders).code)  # upgrades are immediate
    assert floor is None or rank(decision.tier) >= rank(floor)
    if rule != "immediate":  # before the review date, and under "never", nobody goes down
        assert rank(decision.tier) >= rank(current)
    assert (decision.reason is None) == (decision.tier == current)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ORDERS_TIERS": "member:0:0"}, "ORDERS_TIERS"),
        ({"ORDERS_TIERS": "member:0:0:0,gold:120:0:1"}, "ORDERS_TIERS"),
        ({"ORDERS_TIERS": "vip:5:100:0"}, "ORDERS_TIERS"),
        ({"ORDERS_VND_PER_POINT": "0"}, "ORDERS_VND_PER_POINT"),
        ({"ORDERS_TIER_DOWNGRADE": "sometimes"}, "ORDERS_TIER_DOWNGRADE"),
        ({"ORDERS_TIER_REVIEW_DAYS": "a year"}, "ORDERS_TIER_REVIEW_DAYS"),
    ],
)
def test_bad_loyalty_settings_are_one_line_errors(env: dict[str, str], name: str) -> None:
    with pytest.raises(ValueError, match=name) as raised:
        Settings.from_env(env)
    assert "\n" not in str(raised.value)


def test_tiers_from_settings() -> None:
    tiers = parse_tiers("member:0:0:0,silver:5:0:2,gold:20:3000000:2")
    assert [(t.code, t.percent, t.min_spend, t.min_orders) for t in tiers][1] == ("silver", 5, 0, 2)


@given(
    st.lists(st.tuples(st.integers(-3_000_000, 6_000_000), st.integers(-1, 2), st.integers(0, 400)), max_size=30),
    st.sampled_from(["never", "review", "immediate"]),
    st.one_of(st.none(), st.sampled_from(["standard", "gold"])),
)
def test_replaying_the_tier_history_reproduces_the_tier(
    steps: list[tuple[int, int, int]], rule: str, floor: str | None
) -> None:
    """The service keeps the tier and appends a history row per move; the rows alone rebuild the tier."""
    program = Program(downgrade=rule, review_days=30)
    tier, review_at, history = program.tiers[0].code, None, []
    spend = orders = 0
    now = NOW
    for spend_delta, orders_delta, days in steps:
        spend, orders = max(0, spend + spend_delta), max(0, orders + orders_delta)
        now += datetime.timedelta(days=days)
        decision = evaluate(program, tier, floor, spend, orders, now, review_at)
        if decision.reason is not None:
            history.append((tier, decision.tier))
        tier, review_at = decision.tier, decision.review_at
    replayed = program.tiers[0].code
    for before, after in history:
        assert before == replayed  # each move starts where the last one ended
        replayed = after
    assert replayed == tier
    if floor is not None:
        assert program.rank(tier) >= program.rank(floor) or not history
