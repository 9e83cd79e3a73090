"""Unit tests for orders_service.domain.status: the status machine and the operation and courier gates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from couriers import capabilities
from couriers.capabilities import CAPABILITIES
from orders_service.domain.errors import InvalidTransition, OrderNotAmendable
from orders_service.domain.model import ActorKind, OrderStatus
from orders_service.domain.operations import OPERATION_NAMES
from orders_service.domain.outside import Aspect
from orders_service.domain.status import (
    AMENDABLE,
    RESTRICTED,
    TRANSITIONS,
    check_courier_accepts,
    check_operations,
    check_transition,
)

S = OrderStatus
ITEMS_OPS = ("add_line", "remove_line", "set_quantity", "swap_variant", "set_tryon_options")
CONTACT_OPS = ("set_recipient", "set_address")
STAFF_OPS = ("add_payment", "set_shipping")
LOYALTY_OPS = ("redeem_points",)
CLOSED = (S.NEEDS_REVIEW, S.DELIVERED, S.PARTIALLY_DELIVERED, S.RETURNING, S.RETURNED, S.CANCELLED, S.MERGED)
OPEN = (S.PENDING, S.CONFIRMED, S.READY_TO_SHIP)
CONTACT_AND_COD = frozenset({Aspect.RECIPIENT, Aspect.ADDRESS, Aspect.COD})

ALLOWED_MOVES = [
    (S.PENDING, S.CONFIRMED),
    (S.CONFIRMED, S.READY_TO_SHIP),
    (S.READY_TO_SHIP, S.IN_TRANSIT),
    (S.IN_TRANSIT, S.DELIVERED),
    (S.IN_TRANSIT, S.PARTIALLY_DELIVERED),
    (S.IN_TRANSIT, S.RETURNING),
    (S.IN_TRANSIT, S.NEEDS_REVIEW),
    (S.NEEDS_REVIEW, S.DELIVERED),
    (S.NEEDS_REVIEW, S.PARTIALLY_DELIVERED),
    (S.NEEDS_REVIEW, S.RETURNING),
    (S.RETURNING, S.RETURNED),
    *((status, S.CANCELLED) for status in OPEN),
    *((status, S.MERGED) for status in OPEN),
]


def test_every_status_has_a_transition_and_amendable_entry() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert set(AMENDABLE) == set(OrderStatus)
    assert all(set(names) <= set(OPERATION_NAMES) for names in AMENDABLE.values())
    assert set(OPERATION_NAMES) == {*ITEMS_OPS, *CONTACT_OPS, *STAFF_OPS, *LOYALTY_OPS}


@pytest.mark.parametrize("actor", [ActorKind.STAFF, ActorKind.CUSTOMER])
def test_points_are_redeemed_before_pickup_only_by_staff_or_customer(actor: ActorKind) -> None:
    for status in OPEN:
        check_operations(status, ["redeem_points"], actor)
    with pytest.raises(OrderNotAmendable, match="redeem_points is not possible: points are spent before pickup"):
        check_operations(S.IN_TRANSIT, ["redeem_points"], actor)
    for status in CLOSED:
        with pytest.raises(OrderNotAmendable, match="redeem_points is not possible"):
            check_operations(status, ["redeem_points"], actor)


@pytest.mark.parametrize(("current", "target"), ALLOWED_MOVES)
def test_contract_moves_are_allowed(current: OrderStatus, target: OrderStatus) -> None:
    check_transition(current, target)
    assert target in TRANSITIONS[current]


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a in OrderStatus for b in OrderStatus if b not in TRANSITIONS[a]],
)
def test_every_other_move_is_refused(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(InvalidTransition, match=f"{current} cannot become {target}"):
        check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING, S.IN_TRANSIT),
        (S.CONFIRMED, S.PENDING),
        (S.IN_TRANSIT, S.READY_TO_SHIP),
        (S.IN_TRANSIT, S.CANCELLED),
        (S.DELIVERED, S.IN_TRANSIT),
        (S.NEEDS_REVIEW, S.IN_TRANSIT),
        (S.DELIVERED, S.NEEDS_REVIEW),
        (S.CANCELLED, S.CONFIRMED),
        (S.MERGED, S.PENDING),
        (S.RETURNED, S.RETURNING),
        (S.PENDING, S.PENDING),
    ],
)
def test_backward_skipping_and_terminal_moves_are_refused(current: OrderStatus, target: OrderStatus) -> None:
    assert target not in TRANSITIONS[current]
    with pytest.raises(InvalidTransition):
        check_transition(current, target)


@pytest.mark.parametrize("status", [S.RETURNED, S.CANCELLED, S.MERGED])
def test_terminal_statuses_go_nowhere(status: OrderStatus) -> None:
    assert TRANSITIONS[status] == frozenset()


@pytest.mark.parametrize("status", OPEN)
@pytest.mark.parametrize("name", OPERATION_NAMES)
def test_staff_may_use_every_operation_before_pickup(status: OrderStatus, name: str) -> None:
    check_operations(status, [name], ActorKind.STAFF)


@pytest.mark.parametrize("name", ITEMS_OPS)
def test_item_operations_are_refused_in_transit(name: str) -> None:
    with pytest.raises(OrderNotAmendable, match=f"{name} is not possible: .*items can no longer change"):
        check_operations(S.IN_TRANSIT, ["set_recipient", name], ActorKind.STAFF)


@pytest.mark.parametrize("name", [*CONTACT_OPS, *STAFF_OPS])
def test_contact_and_money_operations_pass_the_status_gate_in_transit(name: str) -> None:
    check_operations(S.IN_TRANSIT, [name], ActorKind.STAFF)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (S.CANCELLED, "cancelled"),
        (S.MERGED, "merged into another order"),
        (S.NEEDS_REVIEW, "review what the customer kept"),
        (S.DELIVERED, "delivered"),
        (S.PARTIALLY_DELIVERED, "delivered"),
        (S.RETURNING, "on its way back"),
        (S.RETURNED, "came back"),
    ],
)
@pytest.mark.parametrize("name", OPERATION_NAMES)
def test_closed_statuses_refuse_everything_with_a_reason(status: OrderStatus, name: str, reason: str) -> None:
    assert status in CLOSED
    with pytest.raises(OrderNotAmendable, match=reason) as caught:
        check_operations(status, [name], ActorKind.STAFF)
    assert caught.value.detail.startswith(f"{name} is not possible: ")


@pytest.mark.parametrize("status", [*OPEN, S.IN_TRANSIT])
@pytest.mark.parametrize("name", STAFF_OPS)
def test_staff_only_operations_are_refused_to_customers(status: OrderStatus, name: str) -> None:
    assert ActorKind.CUSTOMER not in RESTRICTED[name]
    with pytest.raises(OrderNotAmendable, match=f"{name} is for shop staff only"):
        check_operations(status, ["set_recipient", name], ActorKind.CUSTOMER)


@pytest.mark.parametrize("actor", [ActorKind.STAFF, ActorKind.SYSTEM])
def test_staff_and_system_may_use_staff_only_operations(actor: ActorKind) -> None:
    check_operations(S.PENDING, list(STAFF_OPS), actor)


def test_customers_may_use_every_other_operation() -> None:
    check_operations(S.PENDING, [*ITEMS_OPS, *CONTACT_OPS], ActorKind.CUSTOMER)
    assert set(RESTRICTED) == set(STAFF_OPS)


@pytest.mark.parametrize("courier", sorted(CAPABILITIES))
@pytest.mark.parametrize("status", [*OPEN, *CLOSED])
def test_courier_gate_is_open_outside_transit(courier: str, status: OrderStatus) -> None:
    check_courier_accepts(status, CAPABILITIES[courier], None, frozenset(Aspect))


@pytest.mark.parametrize("courier", sorted(CAPABILITIES))
def test_courier_gate_lets_an_empty_change_through(courier: str) -> None:
    check_courier_accepts(S.IN_TRANSIT, CAPABILITIES[courier], "delivering", frozenset())


@pytest.mark.parametrize("courier_status", ["picked", "storing", "transporting", "delivering", None, ""])
@pytest.mark.parametrize("aspect", list(Aspect))
def test_ghtk_refuses_every_change_after_pickup(courier_status: str | None, aspect: Aspect) -> None:
    with pytest.raises(OrderNotAmendable, match=f"cannot change {aspect.value}: GHTK has no amend API"):
        check_courier_accepts(S.IN_TRANSIT, CAPABILITIES["ghtk"], courier_status, frozenset({aspect}))


@pytest.mark.parametrize(
    ("courier", "courier_status"),
    [
        ("ghn", "picked"),
        ("ghn", "storing"),
        ("ghn", "transporting"),
        ("ghn", "delivery_fail"),
        ("sandbox", "picked"),
        ("sandbox", "in_transit"),
        ("sandbox", "delivery_failed"),
    ],
)
def test_ghn_and_sandbox_accept_recipient_address_and_cod_but_not_items_after_pickup(
    courier: str, courier_status: str
) -> None:
    check_courier_accepts(S.IN_TRANSIT, CAPABILITIES[courier], courier_status, CONTACT_AND_COD)
    with pytest.raises(OrderNotAmendable, match=r"cannot change items: .*never a change of items") as caught:
        check_courier_accepts(
            S.IN_TRANSIT, CAPABILITIES[courier], courier_status, frozenset({Aspect.ITEMS, Aspect.COD})
        )
    assert "cod" not in caught.value.detail.split(":")[0]


@pytest.mark.parametrize(("courier", "courier_status"), [("ghn", "delivering"), ("sandbox", "delivering")])
def test_nothing_changes_while_out_for_delivery(courier: str, courier_status: str) -> None:
    with pytest.raises(OrderNotAmendable, match=r"cannot change address, cod, recipient: .*out for delivery"):
        check_courier_accepts(S.IN_TRANSIT, CAPABILITIES[courier], courier_status, CONTACT_AND_COD)


@pytest.mark.parametrize("courier", sorted(CAPABILITIES))
def test_unknown_courier_status_in_transit_accepts_nothing(courier: str) -> None:
    with pytest.raises(OrderNotAmendable):
        check_courier_accepts(S.IN_TRANSIT, CAPABILITIES[courier], None, frozenset({Aspect.RECIPIENT}))


@pytest.mark.parametrize("courier", sorted(CAPABILITIES))
def test_no_courier_accepts_an_item_change_after_pickup(courier: str) -> None:
    assert all(capabilities.Aspect.ITEMS not in accepted for accepted in CAPABILITIES[courier].after_pickup.values())


def test_the_domain_and_the_couriers_name_the_same_aspects() -> None:
    # The domain owns its Aspect (it imports nothing outside itself); the couriers' tables speak theirs.
    assert {aspect.value for aspect in Aspect} == {aspect.value for aspect in capabilities.Aspect}


@dataclass(frozen=True)
class Rules:
    after_pickup: Mapping[str, frozenset[str]]
    after_pickup_refusal: str = "not now"


def test_the_courier_gate_reads_any_table_it_is_given() -> None:
    # The gate takes the courier's rules as a value: a plain table of strings works as well as couriers' own.
    rules = Rules({"on_the_way": frozenset({"cod"})})
    check_courier_accepts(S.IN_TRANSIT, rules, "on_the_way", frozenset({Aspect.COD}))
    with pytest.raises(OrderNotAmendable, match=r"^cannot change address, recipient: not now$"):
        check_courier_accepts(S.IN_TRANSIT, rules, "on_the_way", frozenset(Aspect) - {Aspect.ITEMS})
    with pytest.raises(OrderNotAmendable, match=r"^cannot change cod: not now$"):
        check_courier_accepts(S.IN_TRANSIT, rules, "at_the_door", frozenset({Aspect.COD}))
