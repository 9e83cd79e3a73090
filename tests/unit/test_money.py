"""Unit tests for orders_service.domain.money: line amounts, totals, COD and the largest-remainder allocation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders_service.domain.model import (
    Address,
    KeptItem,
    Line,
    Order,
    OrderStatus,
    Payer,
    Recipient,
    Shipping,
    TryonOption,
)
from orders_service.domain.money import Totals, allocate, compute_totals, line_amount

HCMC = Address(line="12 Lê Lợi", ward_code=26743, province_code=79)
SHIRT_OPTIONS = (
    TryonOption(size="M", color="white", unit_price=350_000),
    TryonOption(size="L", color="blue", unit_price=380_000),
    TryonOption(size="L", color="white", unit_price=350_000),
    TryonOption(size="S", color="red", unit_price=300_000),
)


def plain(unit_price: int, quantity: int = 1, line_id: str = "a") -> Line:
    return Line(id=line_id, sku="DRESS-01", name="Đầm hoa", quantity=quantity, size="M", unit_price=unit_price)


def tryon(quantity: int, kept: tuple[KeptItem, ...] | None = None) -> Line:
    return Line(id="t", sku="SHIRT-02", name="Sơ mi", quantity=quantity, tryon_options=SHIRT_OPTIONS, kept=kept)


def order(*lines: Line, fee: int = 0, payer: Payer = Payer.CUSTOMER, paid: int = 0, percent: int = 0) -> Order:
    return Order(
        status=OrderStatus.PENDING,
        recipient=Recipient(name="Lan", phones=("+84901234567",), address=HCMC),
        lines=lines,
        shipping=Shipping(fee=fee, payer=payer),
        paid=paid,
        discount_percent=percent,
    )


@pytest.mark.parametrize(("unit_price", "quantity", "expected"), [(450_000, 1, 450_000), (450_000, 3, 1_350_000)])
def test_plain_line_is_unit_price_times_quantity(unit_price: int, quantity: int, expected: int) -> None:
    assert line_amount(plain(unit_price, quantity)) == expected


def test_free_plain_line_counts_nothing() -> None:
    assert line_amount(plain(0, 5)) == 0


@pytest.mark.parametrize(("quantity", "expected"), [(1, 380_000), (2, 730_000), (3, 1_080_000), (4, 1_380_000)])
def test_tryon_line_counts_its_quantity_most_expensive_options(quantity: int, expected: int) -> None:
    assert line_amount(tryon(quantity)) == expected


def test_tryon_line_counts_what_was_kept_once_reported() -> None:
    kept = (
        KeptItem(size="S", color="red", unit_price=300_000, quantity=1),
        KeptItem(size="M", color="white", unit_price=350_000, quantity=2),
    )
    assert line_amount(tryon(1, kept)) == 1_000_000


def test_tryon_line_with_nothing_kept_counts_zero() -> None:
    assert line_amount(tryon(2, kept=())) == 0


def test_subtotal_sums_plain_and_tryon_lines() -> None:
    totals = compute_totals(order(plain(450_000, 2), tryon(1)))
    assert totals.subtotal == 900_000 + 380_000


@pytest.mark.parametrize(
    ("subtotal", "percent", "discount"),
    [(333_333, 10, 33_333), (333_339, 10, 33_333), (99, 50, 49), (1, 25, 0), (1_000_000, 25, 250_000), (7, 0, 0)],
)
def test_discount_is_floored(subtotal: int, percent: int, discount: int) -> None:
    totals = compute_totals(order(plain(subtotal), percent=percent))
    assert totals.discount_amount == discount
    assert totals.total == subtotal - discount


def test_fee_is_added_only_when_the_customer_pays_it() -> None:
    by_customer = compute_totals(order(plain(100_000), fee=30_000, payer=Payer.CUSTOMER))
    by_shop = compute_totals(order(plain(100_000), fee=30_000, payer=Payer.SHOP))
    assert (by_customer.total, by_shop.total) == (130_000, 100_000)


def test_fee_is_not_discounted() -> None:
    totals = compute_totals(order(plain(100_000), fee=30_000, percent=10))
    assert totals == Totals(subtotal=100_000, discount_amount=10_000, total=120_000, cod_amount=120_000, refund_due=0)


@pytest.mark.parametrize(
    ("paid", "cod", "refund"), [(0, 330_000, 0), (100_000, 230_000, 0), (330_000, 0, 0), (400_000, 0, 70_000)]
)
def test_cod_and_refund_are_what_remains_either_way(paid: int, cod: int, refund: int) -> None:
    totals = compute_totals(order(plain(300_000), fee=30_000, paid=paid))
    assert (totals.total, totals.cod_amount, totals.refund_due) == (330_000, cod, refund)


@given(
    prices=st.lists(st.integers(0, 10**9), min_size=1, max_size=5),
    quantity=st.integers(1, 999),
    fee=st.integers(0, 10**7),
    payer=st.sampled_from(Payer),
    paid=st.integers(0, 10**12),
    percent=st.integers(0, 100),
)
@settings(max_examples=200, deadline=None)
def test_totals_follow_the_contract_formulas(
    prices: list[int], quantity: int, fee: int, payer: Payer, paid: int, percent: int
) -> None:
    lines = tuple(plain(price, quantity, line_id=str(i)) for i, price in enumerate(prices))
    totals = compute_totals(order(*lines, fee=fee, payer=payer, paid=paid, percent=percent))
    subtotal = sum(prices) * quantity
    assert all(type(value) is int for value in (totals.subtotal, totals.discount_amount, totals.total))
    assert totals.subtotal == subtotal
    assert totals.discount_amount == subtotal * percent // 100
    assert totals.total == subtotal - totals.discount_amount + (fee if payer is Payer.CUSTOMER else 0)
    assert totals.cod_amount == max(0, totals.total - paid)
    assert totals.refund_due == max(0, paid - totals.total)
    assert min(totals.cod_amount, totals.refund_due) == 0


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (10, [1, 1, 1], [4, 3, 3]),
        (100, [1, 2, 3], [17, 33, 50]),
        (5, [3, 3, 1, 1], [2, 2, 1, 0]),
        (2, [1, 1, 1], [1, 1, 0]),
        (7, [0, 5, 0], [0, 7, 0]),
        (0, [3, 4], [0, 0]),
        (1_000_001, [1], [1_000_001]),
        (10, [1, 3, 6], [1, 3, 6]),
        (11, [1, 1], [6, 5]),
    ],
)
def test_allocate_by_largest_remainder(amount: int, weights: list[int], expected: list[int]) -> None:
    assert allocate(amount, weights) == expected


def test_allocate_gives_leftover_to_the_largest_remainder_not_the_first_part() -> None:
    # 10 * [1, 2] / 3 = [3.33, 6.67]: the second part has the larger remainder.
    assert allocate(10, [1, 2]) == [3, 7]


def test_allocate_ties_go_to_the_earlier_part_and_repeat_identically() -> None:
    results = {tuple(allocate(1, [2, 2, 2])) for _ in range(5)}
    assert results == {(1, 0, 0)}
    assert allocate(2, [5, 1, 5, 1]) == [1, 0, 1, 0]


def test_allocate_with_only_zero_weights_shares_equally() -> None:
    assert allocate(10, [0, 0, 0]) == [4, 3, 3]


@pytest.mark.parametrize(("amount", "weights"), [(-1, [1]), (10, []), (10, [1, -1])])
def test_allocate_refuses_negative_amounts_and_weights_and_empty_lists(amount: int, weights: list[int]) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        allocate(amount, weights)


@given(amount=st.integers(0, 10**12), weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_allocate_conserves_the_sum_and_stays_within_one_of_the_exact_share(amount: int, weights: list[int]) -> None:
    shares = allocate(amount, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == amount
    assert all(type(share) is int and share >= 0 for share in shares)
    effective = weights if sum(weights) else [1] * len(weights)
    for share, weight in zip(shares, effective, strict=True):
        assert abs(share - Fraction(amount * weight, sum(effective))) < 1


@given(amount=st.integers(0, 10**6), weights=st.lists(st.integers(0, 100), min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_allocate_never_gives_a_smaller_weight_more(amount: int, weights: list[int]) -> None:
    shares = allocate(amount, weights)
    for i, j in ((i, j) for i in range(len(weights)) for j in range(len(weights))):
        if weights[i] < weights[j]:
            assert shares[i] <= shares[j]
