"""Return request rules, pure: what she kept, what she may still ask back, the window, the refund's discount share."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_service.domain.errors import InvalidField
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
from orders_service.returns import rules

HCMC = Address(line="12 Lê Lợi", ward_code=26743, province_code=79)
AT = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
SOCKS = Line(id="s", sku="SOCK-01", name="Tất", quantity=3, size="F", color="black", unit_price=50_000)
DRESS = Line(
    id="d",
    sku="DRESS-07",
    name="Đầm thử",
    quantity=1,
    tryon_options=(TryonOption(size="M", color="red", unit_price=450_000), TryonOption(size="L", unit_price=420_000)),
    kept=(KeptItem(size="L", color=None, unit_price=420_000, quantity=1),),
)
UNREPORTED = Line(id="u", sku="SHIRT", name="Sơ mi", quantity=1, tryon_options=(TryonOption(size="M", unit_price=1),))


def order(*lines: Line, percent: int = 0) -> Order:
    return Order(
        status=OrderStatus.PARTIALLY_DELIVERED,
        recipient=Recipient(name="Lan", phones=("+84901234567",), address=HCMC),
        lines=lines,
        shipping=Shipping(fee=30_000, payer=Payer.CUSTOMER),
        paid=0,
        discount_percent=percent,
    )


def test_she_kept_a_plain_line_whole_and_of_a_tryon_line_what_was_reported() -> None:
    kept = rules.kept(order(SOCKS, DRESS, UNREPORTED))
    assert {key: k.quantity for key, k in kept.items()} == {("SOCK-01", "F", "black"): 3, ("DRESS-07", "L", None): 1}
    assert kept[("DRESS-07", "L", None)].unit_price == 420_000


def test_items_within_what_she_kept_less_what_other_requests_hold() -> None:
    kept = rules.kept(order(SOCKS, DRESS))
    taken = Counter({("SOCK-01", "F", "black"): 1})
    asked = rules.check_items(
        kept, taken, [("SOCK-01", "F", "black", 1), ("DRESS-07", "L", "", 1), ("SOCK-01", "F", "black", 1)]
    )
    assert [(a.sku, a.quantity, a.value) for a in asked] == [("SOCK-01", 2, 100_000), ("DRESS-07", 1, 420_000)]
    with pytest.raises(InvalidField) as caught:
        rules.check_items(kept, taken, [("DRESS-07", "L", None, 1), ("SOCK-01", "F", "black", 3)])
    assert caught.value.field == "items[1].quantity" and "at most 2" in caught.value.message
    with pytest.raises(InvalidField) as caught:
        rules.check_items(kept, Counter(), [("DRESS-07", "M", "red", 1)])  # the option she sent back
    assert caught.value.field == "items[0]"
    with pytest.raises(InvalidField) as caught:
        rules.check_items(kept, Counter(), [])
    assert caught.value.field == "items"


def test_the_window_is_counted_from_delivery_to_the_second() -> None:
    days = 7
    assert rules.within_window(AT, AT + datetime.timedelta(days=7) - datetime.timedelta(seconds=1), days)
    assert not rules.within_window(AT, AT + datetime.timedelta(days=7), days)
    assert not rules.within_window(None, AT, days)  # never delivered
    assert not rules.within_window(AT, AT, 0)  # 0 days: the shop takes no return requests


def test_the_reason_is_bounded_text() -> None:
    assert rules.check_reason("  Chật\n quá ") == "Chật quá"
    for bad in ("", "   ", "x" * 501, "a\x00b"):
        with pytest.raises(InvalidField) as caught:
            rules.check_reason(bad)
        assert caught.value.field == "reason"


def test_the_refund_carries_its_share_of_the_discount() -> None:
    # 1,000,000 of goods, 10% off: one 400,000 dress is refunded 360,000.
    assert rules.refund(400_000, 0, 1_000_000, 100_000) == 360_000
    assert rules.refund(400_000, 0, 1_000_000, 0) == 400_000


@given(
    values=st.lists(st.integers(min_value=0, max_value=5_000_000), min_size=1, max_size=8),
    percent=st.integers(min_value=0, max_value=100),
)
def test_shares_of_every_request_add_up_to_the_discount(values: list[int], percent: int) -> None:
    subtotal = sum(values)
    discount = subtotal * percent // 100
    prior = shares = refunds = 0
    for value in values:
        share = rules.discount_share(value, prior, subtotal, discount)
        assert 0 <= share <= value
        shares, refunds, prior = shares + share, refunds + rules.refund(value, prior, subtotal, discount), prior + value
    assert shares == discount and refunds == subtotal - discount  # to the đồng, whatever the order of requests
