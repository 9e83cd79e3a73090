"""Properties of a family of orders under any sequence of amend, merge, split and try-on reports.

- Payments are conserved to the đồng: what the family has been paid changes only by add_payment.
- Goods are conserved by merge and split: the live orders' subtotals add up to the same before and after.
- Every order's money follows the contract's rules, and no amount is ever negative.
- Each order's diffs, replayed from nothing, rebuild it field by field (the audit trail is complete).
"""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from orders_service.domain import operations as ops
from orders_service.domain.amend import amend
from orders_service.domain.delivery import finalise_delivery
from orders_service.domain.diff import diff, snapshot
from orders_service.domain.errors import DomainError
from orders_service.domain.merge import MERGEABLE, merge
from orders_service.domain.model import (
    Actor,
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
from orders_service.domain.money import NOTHING_DUE, compute_totals
from orders_service.domain.split import Part, split
from orders_service.orders.outside import OUTSIDE

STAFF = Actor(kind=ActorKind.STAFF, id="s1")
ADDRESS = Address(line="12 Lê Lợi", ward_code=26743, province_code=79)
_ids = itertools.count(1)


def new_id() -> str:
    return str(UUID(int=next(_ids)))


price = st.integers(0, 3_000_000)
plain = st.builds(
    lambda sku, size, p, q: Line(id=new_id(), sku=sku, name="x", quantity=q, size=size, color=None, unit_price=p),
    st.sampled_from(["A", "B"]),
    st.sampled_from([None, "M", "L"]),
    st.sampled_from([100000, 250001, 0]) | price,
    st.integers(1, 4),
)
tryon = st.builds(
    lambda prices, q: Line(
        id=new_id(),
        sku="T",
        name="thử",
        quantity=min(q, len(prices)),
        tryon_options=tuple(TryonOption(size=s, unit_price=p) for s, p in zip(("S", "M", "L"), prices, strict=False)),
    ),
    st.lists(price, min_size=1, max_size=3),
    st.integers(1, 3),
)
order_st = st.builds(
    lambda lines, paid, fee, payer, percent: Order(
        status=OrderStatus.PENDING,
        recipient=Recipient(name="Lan", phones=("+84901234567",), address=ADDRESS),
        lines=tuple(lines),
        shipping=Shipping(fee=fee, payer=payer),
        paid=paid,
        discount_percent=percent,
    ),
    st.lists(plain | tryon, min_size=1, max_size=4),
    st.integers(0, 2_000_000),
    st.sampled_from([0, 30000, 45500]),
    st.sampled_from(list(Payer)),
    st.sampled_from([0, 10, 25]),
)


class Family:
    """Orders by id, each with its event diffs, as the service records them."""

    def __init__(self, orders: list[Order]) -> None:
        self.orders: dict[str, Order] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.paid_in = 0
        for order in orders:
            self.add(order)

    def add(self, order: Order) -> None:
        key = new_id()
        self.orders[key] = order
        self.events[key] = [diff(None, order)]
        self.paid_in += order.paid

    def change(self, key: str, after: Order) -> None:
        self.events[key].append(diff(self.orders[key], after))
        self.orders[key] = after

    def live_subtotal(self) -> int:
        return sum(compute_totals(o).subtotal for o in self.orders.values() if o.status not in NOTHING_DUE)

    def open(self) -> list[str]:
        return [k for k, o in self.orders.items() if o.status in MERGEABLE]


def check(family: Family) -> None:
    assert sum(o.paid for o in family.orders.values()) == family.paid_in
    for key, order in family.orders.items():
        t = compute_totals(order)
        assert min(t.subtotal, t.discount_amount, t.total, t.cod_amount, t.refund_due, order.paid) >= 0
        fee = order.shipping.fee if order.shipping.payer is Payer.CUSTOMER else 0
        assert t.total == t.subtotal - t.subtotal * order.discount_percent // 100 + fee
        due = 0 if order.status in NOTHING_DUE else t.total
        assert t.cod_amount - t.refund_due == due - order.paid
        assert t.cod_amount == 0 or t.refund_due == 0
        state: dict[str, Any] = {}
        for changes in family.events[key]:
            for field, change in changes.items():
                if change["after"] is None:
                    state.pop(field, None)
                else:
                    state[field] = change["after"]
        assert state == {f: c["after"] for f, c in snapshot(order).items()}


@settings(max_examples=150, deadline=None)
@given(st.lists(order_st, min_size=2, max_size=4), st.data())
def test_any_sequence_conserves_money_and_replays(orders: list[Order], data: st.DataObject) -> None:
    family = Family(orders)
    check(family)
    for _ in range(data.draw(st.integers(1, 8), label="steps")):
        step = data.draw(st.sampled_from(["pay", "quantity", "merge", "split", "report"]), label="step")
        open_keys = family.open()
        if not open_keys:
            break
        key = data.draw(st.sampled_from(open_keys), label="order")
        order = family.orders[key]
        goods = family.live_subtotal()
        if step == "pay":
            amount = data.draw(st.integers(1, 1_000_000), label="amount")
            family.change(key, amend(order, [ops.AddPayment(amount=amount)], STAFF, new_id, outside=OUTSIDE))
            family.paid_in += amount
        elif step == "quantity":
            line = data.draw(st.sampled_from(order.lines), label="line")
            quantity = data.draw(st.integers(1, 5), label="quantity")
            try:
                after = amend(
                    order, [ops.SetQuantity(line_id=UUID(line.id), quantity=quantity)], STAFF, new_id, outside=OUTSIDE
                )
            except DomainError:
                continue  # e.g. more try-on keeps than options: refused, nothing changed
            family.change(key, after)
        elif step == "merge" and len(open_keys) > 1:
            others = data.draw(st.lists(st.sampled_from([k for k in open_keys if k != key]), min_size=1, unique=True))
            try:
                survivor, merged = merge(
                    order,
                    [family.orders[k] for k in others],
                    order.recipient,
                    new_id,
                    shipping=order.shipping,
                    discount_percent=order.discount_percent,
                    discount_reason=order.discount_reason,
                )
            except DomainError:
                continue
            family.change(key, survivor)
            for other, after in zip(others, merged, strict=True):
                family.change(other, after)
            assert family.live_subtotal() == goods
        elif step == "split":
            take = [
                (line.id, line.quantity if line.is_tryon else data.draw(st.integers(1, line.quantity)))
                for line in data.draw(st.lists(st.sampled_from(order.lines), min_size=1, unique_by=lambda x: x.id))
            ]
            fee = data.draw(st.sampled_from([0, 30000]), label="part fee")
            try:
                original, parts = split(order, [Part(take=take)], [replace(order.shipping, fee=fee)], new_id)
            except DomainError:
                continue  # it would have emptied the original
            family.change(key, original)
            for part in parts:
                family.orders[k := new_id()] = part
                family.events[k] = [diff(None, part)]
            assert family.live_subtotal() == goods
        elif step == "report":
            kept = [
                (line.sku, option.size, option.color, 1)
                for line in order.lines
                for option in (line.tryon_options or ())
                if data.draw(st.booleans(), label="kept")
            ] + [(line.sku, line.size, line.color, line.quantity) for line in order.lines if not line.is_tryon]
            moving = replace(order, status=OrderStatus.IN_TRANSIT)
            family.change(key, moving)
            family.change(key, finalise_delivery(moving, kept))
        check(family)
