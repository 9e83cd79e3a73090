"""The courier-sync plan: which calls bring a courier to the order's state, for each courier and status."""

from __future__ import annotations

import pytest

from couriers.base import Status
from couriers.capabilities import CAPABILITIES
from orders_service.domain.model import Address, Line, Order, OrderStatus, Payer, Recipient, Shipping, replace
from orders_service.shipping.plan import Action, client_code, desired_parcel, plan

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
        ({"shipping": Shipping(fee=30000, payer=Payer.SHOP)}, [Action.UPDATE_RECIPIENT, Action.UPDATE_COD]),
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


def test_a_cancel_waiting_for_the_courier_cancels_the_parcel_and_nothing_else() -> None:
    # The order is still ready to ship (it keeps its COD), but the courier is asked to cancel, not updated.
    changed = replace(ORDER, status=OrderStatus.READY_TO_SHIP, paid=1000)
    assert _plan(changed, cancel_requested=True) == [Action.CANCEL]
    assert _plan(changed, cancel_requested=True, courier="ghtk") == [Action.CANCEL]
    assert _plan(changed, cancel_requested=True, tracking_code=None) == [Action.LOOKUP, Action.CANCEL]
    assert _plan(changed, cancel_requested=True, status=Status.CANCELLED) == []
    assert _plan(changed, cancel_requested=True, status=Status.PICKED) == [Action.CANCEL]  # the courier decides
