"""Unit tests for try-on deliveries finalised: kept reports checked, returns to restock, COD mismatch, courier moves."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_service.domain.delivery import check_kept, cod_mismatch, finalise_delivery
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.model import (
    ActorKind,
    Address,
    Line,
    Order,
    OrderStatus,
    Payer,
    Recipient,
    Shipping,
    TryonOption,
    replace,
)
from orders_service.domain.money import compute_totals
from orders_service.domain.returns import ReturnedItem, ReturnReason, not_kept, sent, whole_parcel
from orders_service.domain.status import check_operations, check_transition, courier_moves

S = OrderStatus
HCMC = Address(line="12 Lê Lợi", ward_code=26743, province_code=79)
DRESS_OPTIONS = (
    TryonOption(size="M", color="red", unit_price=450_000),
    TryonOption(size="L", color="red", unit_price=420_000),
)
SOCKS = Line(id="s", sku="SOCK-01", name="Tất", quantity=2, size="F", color="black", unit_price=50_000)
DRESS = Line(id="d", sku="DRESS-07", name="Đầm thử", quantity=1, tryon_options=DRESS_OPTIONS)


def order(*lines: Line, status: OrderStatus = S.NEEDS_REVIEW, fee: int = 30_000, paid: int = 0) -> Order:
    return Order(
        status=status,
        recipient=Recipient(name="Lan", phones=("+84901234567",), address=HCMC),
        lines=lines,
        shipping=Shipping(fee=fee, payer=Payer.CUSTOMER),
        paid=paid,
    )


def field_of(parcel: Order, kept: list[tuple[str, str | None, str | None, int]]) -> str:
    with pytest.raises(InvalidField) as caught:
        check_kept(parcel, kept)
    return caught.value.field


def test_she_keeps_the_l_dress_and_one_sock() -> None:
    parcel = order(SOCKS, DRESS)
    kept = [("DRESS-07", "L", "red", 1), ("SOCK-01", "F", "black", 1)]
    check_kept(parcel, kept)
    final = finalise_delivery(parcel, kept)
    assert final.status is S.PARTIALLY_DELIVERED  # one sock came back
    assert compute_totals(final).cod_amount == 420_000 + 50_000 + 30_000
    assert not_kept(final) == [
        ReturnedItem("SOCK-01", "Tất", "F", "black", 50_000, 1, ReturnReason.NOT_KEPT),
        ReturnedItem("DRESS-07", "Đầm thử", "M", "red", 450_000, 1, ReturnReason.TRYON_NOT_KEPT),
    ]


def test_keeping_one_option_of_a_one_piece_tryon_line_is_a_full_delivery() -> None:
    final = finalise_delivery(order(DRESS), [("DRESS-07", "L", "red", 1)])
    assert final.status is S.DELIVERED
    assert [(item.size, item.quantity, item.reason) for item in not_kept(final)] == [
        ("M", 1, ReturnReason.TRYON_NOT_KEPT)
    ]


def test_nothing_kept_sends_everything_back() -> None:
    parcel = order(SOCKS, DRESS)
    check_kept(parcel, [])
    final = finalise_delivery(parcel, [])
    assert final.status is S.RETURNING
    assert sum(item.quantity for item in not_kept(final)) == 4  # two socks, two dresses
    assert {item.reason for item in not_kept(final)} == {ReturnReason.NOT_KEPT, ReturnReason.TRYON_NOT_KEPT}


def test_the_whole_parcel_is_every_unit_sent_once() -> None:
    items = whole_parcel(order(SOCKS, DRESS))
    assert [(i.sku, i.size, i.quantity, i.unit_price) for i in items] == [
        ("SOCK-01", "F", 2, 50_000),
        ("DRESS-07", "M", 1, 450_000),
        ("DRESS-07", "L", 1, 420_000),
    ]
    assert {i.reason for i in items} == {ReturnReason.RETURNED}


def test_lines_not_yet_finalised_return_nothing() -> None:
    assert not_kept(order(SOCKS, DRESS)) == []


@pytest.mark.parametrize(
    ("kept", "field"),
    [
        ([("HAT-01", None, None, 1)], "kept[0].sku"),
        ([("SOCK-01", "F", "black", 1), ("DRESS-07", "XL", "red", 1)], "kept[1].size"),
        ([("DRESS-07", "L", "blue", 1)], "kept[0].color"),
        ([("DRESS-07", None, None, 1)], "kept[0].size"),
        ([("SOCK-01", "F", "black", 3)], "kept[0].quantity"),
        ([("SOCK-01", "F", "black", 1), ("SOCK-01", "F", "black", 2)], "kept[1].quantity"),
        ([("DRESS-07", "M", "red", 2)], "kept[0].quantity"),  # one of each option went to the door
        # Both dresses came, but the order lets her keep one: the second one reported is at fault.
        ([("DRESS-07", "M", "red", 1), ("SOCK-01", "F", "black", 1), ("DRESS-07", "L", "red", 1)], "kept[2].quantity"),
    ],
)
def test_a_report_the_parcel_cannot_explain_names_the_item(
    kept: list[tuple[str, str | None, str | None, int]], field: str
) -> None:
    assert field_of(order(SOCKS, DRESS), kept) == field


@pytest.mark.parametrize(
    ("status", "collected", "mismatch"),
    [
        (S.DELIVERED, None, False),  # the courier said nothing
        (S.DELIVERED, 450_000, False),
        (S.DELIVERED, 449_999, True),
        (S.PARTIALLY_DELIVERED, 500_000, True),
        (S.NEEDS_REVIEW, 1, False),  # not settled yet: the review decides what is owed
        (S.RETURNING, 1, False),
    ],
)
def test_cod_mismatch_compares_what_was_collected_with_what_is_owed(
    status: OrderStatus, collected: int | None, mismatch: bool
) -> None:
    final = finalise_delivery(order(DRESS), [("DRESS-07", "L", "red", 1)])
    assert compute_totals(final).cod_amount == 450_000
    assert cod_mismatch(replace(final, status=status), collected) is mismatch


@pytest.mark.parametrize(
    ("current", "target", "moves"),
    [
        (S.IN_TRANSIT, S.NEEDS_REVIEW, True),
        (S.READY_TO_SHIP, S.NEEDS_REVIEW, True),  # a missed pickup is implied
        (S.IN_TRANSIT, S.RETURNED, True),  # returning is implied
        (S.NEEDS_REVIEW, S.DELIVERED, False),  # staff decide, not a later report
        (S.NEEDS_REVIEW, S.PARTIALLY_DELIVERED, False),
        (S.NEEDS_REVIEW, S.NEEDS_REVIEW, False),
        (S.NEEDS_REVIEW, S.RETURNED, True),  # the whole parcel came back
        (S.DELIVERED, S.NEEDS_REVIEW, False),  # a repeated partial report after the review
        (S.DELIVERED, S.PARTIALLY_DELIVERED, False),
        (S.PARTIALLY_DELIVERED, S.DELIVERED, False),
        (S.RETURNING, S.DELIVERED, False),
        (S.DELIVERED, S.RETURNED, True),
        (S.CANCELLED, S.IN_TRANSIT, False),
        (S.MERGED, S.DELIVERED, False),
    ],
)
def test_couriers_move_orders_forward_only(current: OrderStatus, target: OrderStatus, moves: bool) -> None:
    assert courier_moves(current, target) is moves


@pytest.mark.parametrize("target", [S.DELIVERED, S.PARTIALLY_DELIVERED, S.RETURNING, S.RETURNED])
def test_a_review_may_end_in_any_final_status(target: OrderStatus) -> None:
    check_transition(S.NEEDS_REVIEW, target)


def test_nothing_is_amended_while_in_review() -> None:
    with pytest.raises(OrderNotAmendable, match=r"set_recipient is not possible: .*review what the customer kept"):
        check_operations(S.NEEDS_REVIEW, ["set_recipient"], ActorKind.STAFF)


@st.composite
def parcels_and_reports(draw: st.DrawFn) -> tuple[Order, list[tuple[str, str | None, str | None, int]]]:
    """A parcel of plain and try-on lines, and a report of some of its units kept."""
    lines: list[Line] = []
    for index in range(draw(st.integers(1, 4))):
        sku = f"SKU-{index}"
        if draw(st.booleans()):
            quantity = draw(st.integers(1, 3))
            lines.append(Line(id=str(index), sku=sku, name=sku, quantity=quantity, size="M", unit_price=100_000))
            continue
        sizes = draw(st.lists(st.sampled_from(["S", "M", "L", "XL"]), min_size=1, max_size=4, unique=True))
        options = tuple(TryonOption(size=size, unit_price=draw(st.integers(0, 500_000))) for size in sizes)
        lines.append(
            Line(id=str(index), sku=sku, name=sku, quantity=draw(st.integers(1, len(sizes))), tryon_options=options)
        )
    parcel = order(*lines)
    report = []
    for (sku, size, color), count in sent(parcel).items():
        kept = draw(st.integers(0, count))
        if kept:
            report.append((sku, size, color, kept))
    return parcel, draw(st.permutations(report))


@given(parcels_and_reports())
def test_every_unit_sent_is_either_kept_or_returned(
    case: tuple[Order, list[tuple[str, str | None, str | None, int]]],
) -> None:
    parcel, report = case
    try:
        check_kept(parcel, report)
    except InvalidField as refused:
        # Only a try-on line's limit refuses a report of units the parcel held.
        assert refused.field.endswith(".quantity") and "try-on" in refused.message
        return
    final = finalise_delivery(parcel, report)
    kept: Counter[tuple[str, str | None, str | None]] = Counter()
    for line in final.lines:
        for item in line.kept or ():
            kept[(line.sku, item.size, item.color)] += item.quantity
    assert kept == Counter({(sku, size, color): n for sku, size, color, n in report})
    back: Counter[tuple[str, str | None, str | None]] = Counter()
    for item in not_kept(final):
        back[(item.sku, item.size, item.color)] += item.quantity
    assert kept + back == sent(parcel)
    if not report:
        assert final.status is S.RETURNING
    elif not back:
        assert final.status is S.DELIVERED
