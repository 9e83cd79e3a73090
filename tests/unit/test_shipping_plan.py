"""The courier-sync plan: which calls bring a courier to the order's state, for each courier and status."""

from __future__ import annotations

import uuid

import pytest

from couriers.base import Parcel, Remote, Status
from couriers.capabilities import CAPABILITIES, Aspect
from orders_service.db.models import Shipment
from orders_service.domain.model import Address, Line, Order, OrderStatus, Payer, Recipient, Shipping, replace
from orders_service.shipping.plan import (
    Action,
    aspect_value,
    client_code,
    desired_parcel,
    held_after,
    plan,
    refusals_after,
)
from orders_service.shipping.rounds import Round, sent_by_creates

ORDER = Order(
    status=OrderStatus.READY_TO_SHIP,
    recipient=Recipient(
        name="Lan", phones=("+84901234567",), address=Address(line="1 Lê Lợi", ward_code=26743, province_code=79)
    ),
    lines=(Line(id="l1", sku="D", name="Đầm", quantity=1, unit_price=450000),),
    shipping=Shipping(fee=30000, payer=Payer.CUSTOMER),
    paid=0,
)
SYNCED = desired_parcel(ORDER, "DHTEST", 1)
HANOI = Address(line="5 Hàng Bài", ward_code=70, province_code=1)
BOTH = (Action.UPDATE_RECIPIENT, Action.UPDATE_ADDRESS)


def _plan(order: Order, courier: str = "ghn", status: Status | None = Status.CREATED, **kw: object) -> list[Action]:
    args: dict[str, object] = {
        "order_status": order.status,
        "tracking_code": "T1",
        "create_attempted": True,
        "courier_status": status,
        "capabilities": CAPABILITIES[courier],
        "synced": SYNCED,
        "desired": desired_parcel(order, "DHTEST", 1),
    }
    args.update(kw)
    return plan(**args)  # type: ignore[arg-type]


def test_nothing_to_do_when_the_courier_holds_the_order() -> None:
    assert _plan(ORDER) == []


def test_a_first_create_and_a_lost_answer_looked_up_first() -> None:
    assert _plan(ORDER, tracking_code=None, create_attempted=False, synced=None) == [Action.CREATE]
    assert _plan(ORDER, tracking_code=None, create_attempted=True, synced=None) == [Action.LOOKUP, Action.CREATE]


@pytest.mark.parametrize(
    ("change", "actions"),
    [
        ({"recipient": replace(ORDER.recipient, name="Hoa")}, [Action.UPDATE_RECIPIENT]),
        ({"recipient": replace(ORDER.recipient, address=HANOI)}, [Action.UPDATE_ADDRESS]),
        ({"recipient": replace(ORDER.recipient, name="Hoa", address=HANOI)}, [*BOTH]),
        # Who pays the fee is money: every courier's fee table sends the same fields for both payers.
        ({"shipping": Shipping(fee=30000, payer=Payer.SHOP)}, [Action.UPDATE_COD]),
        ({"paid": 100000}, [Action.UPDATE_COD]),
        ({"lines": (replace(ORDER.lines[0], quantity=2),)}, [Action.UPDATE_ITEMS, Action.UPDATE_COD]),
    ],
)
def test_ghn_updates_in_place(change: dict[str, object], actions: list[Action]) -> None:
    assert _plan(replace(ORDER, **change)) == actions


def test_ghtk_recreates_before_pickup_and_after_a_cancel_under_it() -> None:
    changed = replace(ORDER, paid=1000)
    assert _plan(changed, courier="ghtk") == [Action.RECREATE]
    assert _plan(changed, courier="ghtk", status=Status.CANCELLED) == [Action.RECREATE]
    assert _plan(changed, courier="ghn", status=Status.CANCELLED) == [Action.RECREATE]


def test_closed_orders_cancel_and_finished_parcels_are_left_alone() -> None:
    cancelled = replace(ORDER, status=OrderStatus.CANCELLED)
    assert _plan(cancelled) == [Action.CANCEL]
    assert _plan(cancelled, status=Status.CANCELLED) == []
    assert _plan(cancelled, tracking_code=None, create_attempted=False) == [Action.FORGET]
    assert _plan(cancelled, tracking_code=None, create_attempted=True) == [Action.LOOKUP, Action.CANCEL]
    assert _plan(replace(ORDER, paid=5), status=Status.DELIVERED) == []


def test_generations_name_recreated_courier_orders() -> None:
    assert (client_code("DHX", 1), client_code("DHX", 3)) == ("DHX", "DHX-3")


def test_a_refused_value_is_not_sent_again_and_the_other_aspects_are() -> None:
    moved = replace(ORDER, recipient=replace(ORDER.recipient, name="Hoa"), paid=100000)
    desired = desired_parcel(moved, "DHTEST", 1)
    refused = {"recipient": aspect_value(desired, Aspect.RECIPIENT)}
    assert _plan(moved, refused=refused) == [Action.UPDATE_COD]
    again = replace(moved, recipient=replace(moved.recipient, name="Hoa Lê"))  # a new value is tried
    assert _plan(again, refused=refused) == [Action.UPDATE_RECIPIENT, Action.UPDATE_COD]
    assert _plan(moved, refused={}) == [Action.UPDATE_RECIPIENT, Action.UPDATE_COD]  # staff retry clears it


def test_the_courier_holds_the_accepted_aspects_only() -> None:
    moved = replace(ORDER, recipient=replace(ORDER.recipient, name="Hoa", address=HANOI), paid=100000)
    desired = desired_parcel(moved, "DHTEST", 1)
    held = held_after(SYNCED, desired, [Aspect.COD, Aspect.ADDRESS])
    assert (held.recipient_name, held.address.ward_code, held.cod_amount) == ("Lan", 70, desired.cod_amount)
    after = refusals_after(None, held, desired, [Aspect.RECIPIENT, Aspect.COD], {Aspect.RECIPIENT: "tối đa 2 lần"})
    assert after == {"recipient": {"message": "tối đa 2 lần", "value": ["Hoa", ["+84901234567"]]}}
    # Not sent again, still not held: still refused. Reverted to what the courier holds: refused no more.
    assert refusals_after(after, held, desired, [], {}) == after
    assert refusals_after(after, held, replace(desired, recipient_name="Lan"), [], {}) == {}
    assert refusals_after(after, desired, desired, [Aspect.RECIPIENT], {}) == {}


def test_a_sync_with_nothing_to_send_keeps_what_the_courier_holds_and_refused() -> None:
    moved = desired_parcel(replace(ORDER, recipient=replace(ORDER.recipient, name="Hoa")), "DHTEST", 1)
    shipment = Shipment(order_id=uuid.uuid4(), courier="ghn", client_code="DHTEST", tracking_code="T1", generation=1)
    refused = refusals_after(None, SYNCED, moved, [Aspect.RECIPIENT], {Aspect.RECIPIENT: "tối đa 2 lần"})
    idle = Round(shipment, 3, moved, SYNCED, [])  # the refused recipient is not sent again: nothing to do
    assert idle.held.recipient_name == "Lan"
    assert refusals_after(refused, idle.held, moved, set(), {}) == refused
    recreated = Round(shipment, 3, moved, SYNCED, [Action.RECREATE])  # a new courier order takes it all
    assert recreated.held == moved


def test_a_parcel_found_after_a_lost_create_holds_what_the_creates_sent() -> None:
    shipment = Shipment(order_id=uuid.uuid4(), courier="sandbox", client_code="DHTEST", generation=1)
    shipment.create_attempted, shipment.synced = False, None
    shipment.synced = sent_by_creates(shipment, SYNCED)  # the first create: remembered until its answer comes
    shipment.create_attempted = True
    paid = desired_parcel(replace(ORDER, paid=45000), "DHTEST", 1)
    assert sent_by_creates(shipment, SYNCED) == shipment.synced  # a retry sends the same parcel
    assert sent_by_creates(shipment, paid) is None  # one sends a newer order: either may be the one that landed
    found = Remote("T1", "DHTEST", Status.CREATED, "created", cod_amount=SYNCED.cod_amount)

    def round_finding(desired: Parcel, attempted: Parcel | None, remote: Remote = found) -> Round:
        made = Round(shipment, 5, desired, None, [Action.LOOKUP, Action.CREATE])
        made.attempted = attempted
        made.find(remote)
        return made

    assert (round_finding(SYNCED, SYNCED).held, round_finding(SYNCED, SYNCED).behind) == (SYNCED, False)
    behind = round_finding(paid, SYNCED)  # the order changed before the lookup: the parcel holds the older one
    assert (behind.held, behind.behind, behind.tracking_code) == (SYNCED, True, "T1")
    assert round_finding(paid, None).held is None  # not known what it holds: every aspect is sent
    other = Remote("T1", "DHTEST", Status.CREATED, "created", cod_amount=paid.cod_amount)
    assert round_finding(paid, SYNCED, other).held is None  # the courier's COD says another create landed


def test_a_cancel_waiting_for_the_courier_cancels_the_parcel_and_nothing_else() -> None:
    # The order is still ready to ship (it keeps its COD), but the courier is asked to cancel, not updated.
    changed = replace(ORDER, status=OrderStatus.READY_TO_SHIP, paid=1000)
    assert _plan(changed, cancel_requested=True) == [Action.CANCEL]
    assert _plan(changed, cancel_requested=True, courier="ghtk") == [Action.CANCEL]
    assert _plan(changed, cancel_requested=True, tracking_code=None) == [Action.LOOKUP, Action.CANCEL]
    assert _plan(changed, cancel_requested=True, status=Status.CANCELLED) == []
    assert _plan(changed, cancel_requested=True, status=Status.PICKED) == [Action.CANCEL]  # the courier decides
