"""Property tests for orders_service.domain.amend: exact money, purity, determinism and diffs over random edits."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from couriers.capabilities import COURIERS
from orders_service import geo
from orders_service.domain import operations as ops
from orders_service.domain.amend import NewId, amend, new_order
from orders_service.domain.diff import diff
from orders_service.domain.errors import DomainError
from orders_service.domain.model import (
    Actor,
    ActorKind,
    Address,
    Order,
    OrderStatus,
    Payer,
    Recipient,
    Shipping,
    TryonOption,
    replace,
)
from orders_service.domain.money import compute_totals
from orders_service.orders.outside import OUTSIDE

S = OrderStatus
OPEN = (S.PENDING, S.CONFIRMED, S.READY_TO_SHIP)
ITEMS = {"add_line", "remove_line", "set_quantity", "swap_variant", "set_tryon_options"}
STAFF_ONLY = {"add_payment", "set_shipping"}
STAFF, CUSTOMER = Actor(kind=ActorKind.STAFF, id="s1"), Actor(kind=ActorKind.CUSTOMER)
UNKNOWN = UUID(int=999_999)
ADDRESSES = [(p, w) for p, _ in geo.provinces() for w, _ in geo.wards(p)]
PHONES = [("0901 234 567", "+84901234567"), ("+84901234567", "+84901234567"), ("0283 822 1234", "+842838221234")]
PHONES += [("0166 123 4567", "+84361234567"), ("84-91-234-5678", "+84912345678"), ("abc", None), ("090123456", None)]
OPTION_KEYS = [(s, c) for s in (None, "S", "M", "L") for c in (None, "red", "blue") if (s, c) != (None, None)]
PRICES = st.integers(0, 2_000_000)


def unset_or(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(UNSET), strategy)


def ids(start: int) -> NewId:
    counter = itertools.count(start)
    return lambda: str(UUID(int=next(counter)))


options_st = st.lists(st.tuples(st.sampled_from(OPTION_KEYS), PRICES), min_size=1, max_size=4, unique_by=lambda t: t[0])
options_st = options_st.map(lambda xs: [TryonOption(size=k[0], color=k[1], unit_price=p) for k, p in xs])
sizes, colors = st.sampled_from([None, "S", "M"]), st.sampled_from([None, "red"])
plain_in = st.builds(
    ops.LineIn,
    sku=st.sampled_from(["A", "B"]),
    name=st.just("Áo"),
    quantity=st.integers(1, 20),
    size=sizes,
    color=colors,
    unit_price=st.sampled_from([0, 99_999, 450_000]) | PRICES,
)


def tryon_in(extra: int) -> st.SearchStrategy[ops.LineIn]:
    """Try-on lines whose quantity may exceed the number of options by up to `extra` (invalid then)."""
    return options_st.flatmap(
        lambda o: st.builds(
            ops.LineIn,
            sku=st.just("T"),
            name=st.just("Sơ mi"),
            quantity=st.integers(1, len(o) + extra),
            tryon_options=st.just(o),
        )
    )


@st.composite
def orders(draw: st.DrawFn) -> Order:
    lines = draw(st.lists(plain_in | tryon_in(0), min_size=1, max_size=5))
    province, ward = draw(st.sampled_from(ADDRESSES))
    phones = draw(
        st.lists(
            st.sampled_from(["+84901234567", "+842838221234", "+84361234567"]), min_size=1, max_size=3, unique=True
        )
    )
    recipient = Recipient(name="Lan", phones=tuple(phones), address=Address("12 Lê Lợi", ward, province))
    shipping = Shipping(fee=draw(st.integers(0, 10**7)), payer=draw(st.sampled_from(Payer)))
    built = new_order(
        recipient,
        lines,
        shipping,
        draw(st.integers(0, 5_000_000)),
        ids(1),
        courier=draw(st.sampled_from(COURIERS)),
        note=None,
        discount_percent=draw(st.integers(0, 50)),
        discount_reason=None,
        outside=OUTSIDE,
    )
    return replace(built, status=draw(st.sampled_from([*OPEN * 4, *OrderStatus])))


PICK = st.integers(0, 5).map(lambda i: None if i == 5 else i)  # None: a line id the order lacks
specs = st.one_of(
    st.tuples(
        st.just("set_recipient"),
        unset_or(st.sampled_from(["Hoa", "  "])),
        unset_or(st.lists(st.sampled_from(PHONES), min_size=1, max_size=3)),
    ),
    st.tuples(st.just("set_address"), st.sampled_from(ADDRESSES), st.booleans()),
    st.tuples(st.just("add_line"), plain_in | tryon_in(1)),
    st.tuples(st.just("remove_line"), PICK),
    st.tuples(st.just("set_quantity"), PICK, st.integers(1, 6)),
    st.tuples(st.just("swap_variant"), PICK, unset_or(st.just("L")), unset_or(st.just("blue")), unset_or(PRICES)),
    st.tuples(st.just("set_tryon_options"), PICK, options_st),
    st.tuples(st.just("add_payment"), st.integers(1, 5_000_000)),
    st.tuples(st.just("redeem_points"), st.integers(1, 3_000)),
    st.tuples(st.just("set_shipping"), unset_or(st.integers(0, 10**7)), unset_or(st.sampled_from(Payer))),
)


def resolve(spec: tuple[Any, ...], order: Order, actor: Actor) -> tuple[ops.Operation, bool]:
    """Turn a drawn spec into an operation on `order`, and say whether the contract makes it invalid."""
    name, *args = spec
    by_line = name in ITEMS - {"add_line"}
    line = order.lines[args[0] % len(order.lines)] if by_line and args[0] is not None else None
    line_id = UNKNOWN if line is None else UUID(line.id)
    unknown = by_line and line is None
    op: ops.Operation
    match spec:
        case ("set_recipient", person, phones):
            op, bad = ops.SetRecipient(name=person, phones=phones if phones is UNSET else [r for r, _ in phones]), False
            if phones is not UNSET:
                normalised = [e for _, e in phones]
                bad = None in normalised or len(set(normalised)) < len(normalised)
            bad = bad or person == "  "
        case ("set_address", (province, ward), elsewhere):
            province = (1 if province != 1 else 79) if elsewhere else province
            op, bad = ops.SetAddress(address=Address("5 Hàng Bài", ward, province)), elsewhere
        case ("add_line", line_in):
            op, bad = (
                ops.AddLine(line=line_in),
                line_in.tryon_options is not None and line_in.quantity > len(line_in.tryon_options),
            )
        case ("remove_line", _):
            op, bad = ops.RemoveLine(line_id=line_id), len(order.lines) == 1
        case ("set_quantity", _, quantity):
            op = ops.SetQuantity(line_id=line_id, quantity=quantity)
            bad = line is not None and line.tryon_options is not None and quantity > len(line.tryon_options)
        case ("swap_variant", _, size, color, price):
            op = ops.SwapVariant(line_id=line_id, size=size, color=color, unit_price=price)
            bad = (line is not None and line.is_tryon) or size is color is price is UNSET
        case ("set_tryon_options", _, options):
            op = ops.SetTryonOptions(line_id=line_id, tryon_options=options)
            bad = line is not None and (not line.is_tryon or line.quantity > len(options))
        case ("add_payment", amount):
            op, bad = ops.AddPayment(amount=amount), False
        case ("set_shipping", fee, payer):
            op, bad = ops.SetShipping(fee=fee, payer=payer), False
        case ("redeem_points", points):
            # Points pay at the default 1,000 VND each, never beyond the COD still due.
            op, bad = ops.RedeemPoints(points=points), points * 1_000 > compute_totals(order).cod_amount
    before_pickup_only = name in ITEMS or name == "redeem_points"
    closed = order.status not in OPEN and (order.status is not S.IN_TRANSIT or before_pickup_only)
    return op, bad or unknown or closed or (name in STAFF_ONLY and actor.kind is ActorKind.CUSTOMER)


def assert_money_exact(order: Order) -> None:
    t = compute_totals(order)
    subtotal = 0
    for line in order.lines:
        if line.tryon_options is None:
            subtotal += (line.unit_price or 0) * line.quantity
        else:
            subtotal += sum(sorted((o.unit_price for o in line.tryon_options), reverse=True)[: line.quantity])
    assert t.subtotal == subtotal
    assert t.discount_amount == subtotal * order.discount_percent // 100 <= subtotal
    assert all(type(v) is int and v >= 0 for v in msgspec.structs.astuple(t))
    assert t.total == t.subtotal - t.discount_amount + (
        order.shipping.fee if order.shipping.payer is Payer.CUSTOMER else 0
    )
    due = 0 if order.status in (S.CANCELLED, S.MERGED) else t.total  # nothing is collected for those
    assert (t.cod_amount, t.refund_due) == (max(0, due - order.paid), max(0, order.paid - due))


def assert_effect(op: ops.Operation, before: Order, after: Order) -> None:
    if not isinstance(op, ops.AddLine | ops.RemoveLine | ops.SetQuantity | ops.SwapVariant | ops.SetTryonOptions):
        assert after.lines == before.lines
    match op:
        case ops.AddPayment(amount=amount):
            assert after.paid == before.paid + amount
        case ops.RedeemPoints(points=points):
            assert after.paid == before.paid + points * 1_000
            assert compute_totals(after).cod_amount == compute_totals(before).cod_amount - points * 1_000
        case ops.SetAddress(address=address):
            assert after.recipient.address == address
        case ops.RemoveLine(line_id=line_id):
            assert [line.id for line in after.lines] == [line.id for line in before.lines if line.id != str(line_id)]
        case ops.SetQuantity(line_id=line_id, quantity=quantity):
            assert [line.quantity for line in after.lines if line.id == str(line_id)] == [quantity]
        case ops.AddLine(line=line):
            added = sum(x.quantity for x in after.lines) - sum(x.quantity for x in before.lines)
            assert added == line.quantity and len(after.lines) - len(before.lines) in (0, 1)


def run(order: Order, steps: list[tuple[Any, ...]], actor: Actor, courier_status: str | None) -> list[object]:
    """Apply each step as its own amendment, checking purity and money; return what happened at each step."""
    new_id, outcomes = ids(1000), []
    for spec in steps:
        op, invalid = resolve(spec, order, actor)
        snapshot = msgspec.json.encode(order)
        try:
            amended = amend(order, [op], actor, new_id, courier_status, outside=OUTSIDE)
        except DomainError as error:
            assert msgspec.json.encode(order) == snapshot
            assert invalid or order.status is S.IN_TRANSIT, f"valid {op!r} refused: {error.detail}"
            outcomes.append(error.detail)
            event(f"{ops.op_name(op)} refused")
            continue
        assert not invalid, f"invalid {op!r} accepted"
        assert msgspec.json.encode(order) == snapshot
        assert_money_exact(amended)
        assert (diff(order, amended) == {}) == (order == amended)
        assert_effect(op, order, amended)
        outcomes.append(amended)
        event(f"{ops.op_name(op)} accepted")
        order = amended
    return outcomes


@given(
    orders(),
    st.lists(specs, min_size=1, max_size=8),
    st.sampled_from([STAFF, STAFF, CUSTOMER]),
    st.sampled_from([None, "picked", "in_transit", "delivering"]),
)
@settings(max_examples=200, deadline=None)
def test_amendments_keep_money_exact_never_mutate_and_are_deterministic(
    order: Order, steps: list[tuple[Any, ...]], actor: Actor, courier_status: str | None
) -> None:
    assert_money_exact(order)
    first = run(order, steps, actor, courier_status)
    assert msgspec.json.encode(first) == msgspec.json.encode(run(order, steps, actor, courier_status))


@given(orders().map(lambda o: replace(o, status=S.PENDING)), st.lists(specs, min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_one_atomic_amendment_equals_the_same_operations_one_by_one(order: Order, steps: list[tuple[Any, ...]]) -> None:
    current, operations, new_id = order, [], ids(1000)
    for spec in steps:
        op, invalid = resolve(spec, current, STAFF)
        if invalid:
            with pytest.raises(DomainError):
                amend(order, [*operations, op], STAFF, ids(1000), outside=OUTSIDE)
            return
        operations.append(op)
        current = amend(current, [op], STAFF, new_id, outside=OUTSIDE)
    assert amend(order, operations, STAFF, ids(1000), outside=OUTSIDE) == current
