"""A merge's money does not depend on which order survives: the same orders, the same address chosen and the
customer's tier now give the same parcel to the đồng, whichever of them is `into`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orders_service.domain.errors import DomainError
from orders_service.domain.merge import MERGEABLE, merge
from orders_service.domain.model import Line, Order, OrderStatus, Payer, Recipient, Shipping, replace
from orders_service.domain.money import compute_totals
from tests.unit.test_family_properties import ADDRESS, new_id, order_st

tier_now = st.sampled_from([(0, None), (10, "standard tier 10%"), (25, "gold tier 25%"), (7, "custom tier 7%")])
statuses = st.sampled_from(sorted(MERGEABLE))
open_order = st.builds(lambda order, status: replace(order, status=status), order_st, statuses)


def goods(order: Order) -> dict[tuple[object, ...], int]:
    """What the parcel holds, whatever line ids and line order the merge gave it."""
    held: dict[tuple[object, ...], int] = {}
    for line in order.lines:
        key = (line.sku, line.size, line.color, line.unit_price, line.tryon_options)
        held[key] = held.get(key, 0) + line.quantity
    return held


def merged_into(orders: list[Order], into: int, place: Order, tier: tuple[int, str | None]) -> Order | None:
    sources = [order for i, order in enumerate(orders) if i != into]
    try:
        survivor, merged = merge(
            orders[into],
            sources,
            place.recipient,
            new_id,
            shipping=place.shipping,
            discount_percent=tier[0],
            discount_reason=tier[1],
        )
    except DomainError:
        return None  # more lines than one order holds: refused whichever order survives
    assert all(compute_totals(m).cod_amount == 0 and m.paid == 0 for m in merged)
    return survivor


@settings(max_examples=300, deadline=None)
@given(st.lists(open_order, min_size=2, max_size=4), tier_now, st.data())
def test_the_merged_money_is_the_same_whichever_order_survives(
    orders: list[Order], tier: tuple[int, str | None], data: st.DataObject
) -> None:
    place = data.draw(st.sampled_from(orders), label="address from")
    one, other = data.draw(st.permutations(range(len(orders))), label="survivors")[:2]
    first, second = merged_into(orders, one, place, tier), merged_into(orders, other, place, tier)
    assert (first is None) == (second is None)
    if first is None or second is None:
        return
    assert compute_totals(first) == compute_totals(second)
    assert (first.discount_percent, first.discount_reason) == tier == (second.discount_percent, second.discount_reason)
    assert first.shipping == second.shipping == place.shipping
    assert first.recipient == second.recipient == place.recipient
    assert first.paid == second.paid == sum(order.paid for order in orders)
    assert goods(first) == goods(second)
    totals = compute_totals(first)
    assert totals.subtotal == sum(compute_totals(order).subtotal for order in orders)  # no goods lost or made up
    assert totals.discount_amount == totals.subtotal * tier[0] // 100


def order(percent: int, sku: str, price: int) -> Order:
    return Order(
        status=OrderStatus.PENDING,
        recipient=Recipient(name="Lan", phones=("+84901234567",), address=ADDRESS),
        lines=(Line(id=new_id(), sku=sku, name=sku, quantity=1, unit_price=price),),
        shipping=Shipping(fee=30000, payer=Payer.CUSTOMER),
        paid=0,
        discount_percent=percent,
        discount_reason="standard tier 10%" if percent else None,
    )


def test_a_ten_percent_order_into_an_older_zero_percent_one_keeps_her_ten_percent() -> None:
    """The case staff reported: 450.000 at 0% (older) and 380.000 at 10%, merged either way round."""
    older, newer = order(0, "DRESS-01", 450000), order(10, "SHIRT-02", 380000)
    both = [older, newer]
    one_way = merged_into(both, 0, older, (10, "standard tier 10%"))
    other_way = merged_into(both, 1, older, (10, "standard tier 10%"))
    assert one_way is not None and other_way is not None
    assert compute_totals(one_way).cod_amount == compute_totals(other_way).cod_amount == 830000 - 83000 + 30000
