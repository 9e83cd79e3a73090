"""Example tests for orders_service.domain.amend: the effect of each operation and the errors it raises."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from uuid import UUID

import pytest

from orders_service.domain import operations as ops
from orders_service.domain.amend import NewId, amend, new_order
from orders_service.domain.diff import diff
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.model import (
    MAX_QUANTITY,
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
from orders_service.domain.outside import Outside
from orders_service.orders.outside import OUTSIDE

S = OrderStatus
STAFF, CUSTOMER = Actor(kind=ActorKind.STAFF, id="s1"), Actor(kind=ActorKind.CUSTOMER)
UNKNOWN = UUID(int=999_999)


def ids(start: int) -> NewId:
    counter = itertools.count(start)
    return lambda: str(UUID(int=next(counter)))


def base(status: OrderStatus = S.PENDING, courier: str = "sandbox") -> Order:
    tryon = ops.LineIn(
        sku="T",
        name="Sơ mi",
        tryon_options=[TryonOption("M", unit_price=350_000), TryonOption("L", unit_price=380_000)],
    )
    dress = ops.LineIn(sku="D", name="Đầm", size="M", color="red", unit_price=450_000, quantity=2)
    recipient = Recipient("Lan", ("+84901234567",), Address("12 Lê Lợi", 26743, 79))
    built = new_order(
        recipient,
        [dress, tryon],
        Shipping(30_000, Payer.CUSTOMER),
        0,
        ids(1),
        courier=courier,
        note=None,
        discount_percent=0,
        discount_reason=None,
        outside=OUTSIDE,
    )
    return replace(built, status=status)


def one(
    op: ops.Operation, order: Order | None = None, actor: Actor = STAFF, courier_status: str | None = None
) -> Order:
    return amend(order or base(), [op], actor, ids(500), courier_status, outside=OUTSIDE)


DRESS, TRYON = UUID(int=1), UUID(int=2)


def test_set_recipient_keeps_three_phones_in_the_order_given() -> None:
    after = one(ops.SetRecipient(name="  Hoa ", phones=["0283 822 1234", "+84912345678", "0166 123 4567"]))
    assert after.recipient.phones == ("+842838221234", "+84912345678", "+84361234567")
    assert after.recipient.name == "Hoa"
    assert diff(base(), after)["recipient.name"] == {"before": "Lan", "after": "Hoa"}


def test_add_line_of_an_identical_variant_merges_quantities() -> None:
    after = one(
        ops.AddLine(line=ops.LineIn(sku="D", name="Đầm", size="M", color="red", unit_price=450_000, quantity=3))
    )
    assert [(line.id, line.quantity) for line in after.lines] == [(str(DRESS), 5), (str(TRYON), 1)]
    assert compute_totals(after).subtotal == 5 * 450_000 + 380_000


def test_add_line_of_another_price_is_a_new_line() -> None:
    after = one(ops.AddLine(line=ops.LineIn(sku="D", name="Đầm", size="M", color="red", unit_price=400_000)))
    assert len(after.lines) == 3 and after.lines[2].id == str(UUID(int=500))


def test_add_line_merge_never_exceeds_max_quantity() -> None:
    big = one(ops.SetQuantity(line_id=DRESS, quantity=MAX_QUANTITY))
    with pytest.raises(InvalidField):
        one(ops.AddLine(line=ops.LineIn(sku="D", name="Đầm", size="M", color="red", unit_price=450_000)), big)


def test_set_tryon_options_replaces_options_and_reprices() -> None:
    options = [TryonOption("S", "blue", 300_000), TryonOption("M", "blue", 320_000)]
    after = one(ops.SetTryonOptions(line_id=TRYON, tryon_options=options))
    assert after.lines[1].tryon_options == tuple(options)
    assert compute_totals(after).subtotal == 900_000 + 320_000
    after = one(ops.SetQuantity(line_id=TRYON, quantity=2), after)
    assert compute_totals(after).subtotal == 900_000 + 620_000


def test_set_shipping_payer_shop_removes_the_fee_from_total() -> None:
    after = one(ops.SetShipping(payer=Payer.SHOP))
    assert compute_totals(base()).total - compute_totals(after).total == 30_000
    assert after.shipping == Shipping(30_000, Payer.SHOP)


def test_add_payment_beyond_total_gives_refund_due() -> None:
    after = one(ops.AddPayment(amount=1_500_000), one(ops.AddPayment(amount=500_000)))
    assert (after.paid, compute_totals(after).cod_amount, compute_totals(after).refund_due) == (2_000_000, 0, 690_000)
    assert diff(base(), after) == {
        "paid": {"before": 0, "after": 2_000_000},
        "cod_amount": {"before": 1_310_000, "after": 0},
        "refund_due": {"before": 0, "after": 690_000},
    }


def test_swap_variant_and_remove_line() -> None:
    after = one(ops.SwapVariant(line_id=DRESS, size="L", unit_price=500_000))
    assert (after.lines[0].size, after.lines[0].color, after.lines[0].unit_price) == ("L", "red", 500_000)
    assert [line.id for line in one(ops.RemoveLine(line_id=DRESS)).lines] == [str(TRYON)]


def test_set_address_accepts_a_ward_of_the_province() -> None:
    after = one(ops.SetAddress(address=Address("1 Tràng Tiền", 70, 1)))
    assert after.recipient.address == Address("1 Tràng Tiền", 70, 1)


@pytest.mark.parametrize(
    ("op", "field"),
    [
        (ops.RemoveLine(line_id=UNKNOWN), "operations[0].line_id"),
        (ops.SetQuantity(line_id=TRYON, quantity=3), "operations[0].quantity"),
        (ops.SwapVariant(line_id=TRYON, size="S"), "operations[0].line_id"),
        (ops.SwapVariant(line_id=DRESS), "operations[0]"),
        (ops.SetTryonOptions(line_id=DRESS, tryon_options=[TryonOption("S")]), "operations[0].line_id"),
        (ops.SetRecipient(phones=["0901234567", "+84 90 123 4567"]), "operations[0].phones[1]"),
        (ops.SetRecipient(phones=["abc"]), "operations[0].phones[0]"),
        (ops.SetAddress(address=Address("12 Lê Lợi", 26743, 1)), "operations[0].address.ward_code"),
    ],
)
def test_invalid_operations_name_the_field(op: ops.Operation, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        one(op)
    assert caught.value.field == field


def test_removing_the_last_line_is_refused_and_a_batch_is_all_or_nothing() -> None:
    single = one(ops.RemoveLine(line_id=DRESS))
    with pytest.raises(InvalidField, match="at least one line"):
        amend(
            base(),
            [ops.AddPayment(amount=1), ops.RemoveLine(line_id=DRESS), ops.RemoveLine(line_id=TRYON)],
            STAFF,
            ids(500),
            outside=OUTSIDE,
        )
    with pytest.raises(InvalidField, match="operations"):
        amend(single, [], STAFF, ids(500), outside=OUTSIDE)


def test_gate_after_pickup_follows_the_courier() -> None:
    in_transit = base(S.IN_TRANSIT, courier="ghn")
    assert one(ops.AddPayment(amount=100_000), in_transit, courier_status="picked").paid == 100_000
    with pytest.raises(OrderNotAmendable, match="out for delivery"):
        one(ops.SetRecipient(name="Hoa"), in_transit, courier_status="delivering")
    with pytest.raises(OrderNotAmendable, match="GHTK"):
        one(ops.SetRecipient(name="Hoa"), base(S.IN_TRANSIT, courier="ghtk"), courier_status="picked")
    with pytest.raises(OrderNotAmendable, match="staff only"):
        one(ops.SetShipping(fee=0), actor=CUSTOMER)


def test_the_address_book_and_the_couriers_rules_are_inputs() -> None:
    # The domain consults the world it is given, not one it imports: a book that knows no ward refuses every
    # address, naming the field, and a courier table of plain strings governs the gate after pickup.
    strict = Outside(
        units_problem=lambda province, ward: ("ward_code", f"no ward {ward} in {province}"),
        couriers={"sandbox": SimpleNamespace(after_pickup={"picked": frozenset({"cod"})}, after_pickup_refusal="no")},
    )
    with pytest.raises(InvalidField) as refused:
        amend(base(), [ops.SetAddress(address=Address("1 Tràng Tiền", 70, 1))], STAFF, ids(500), outside=strict)
    assert (refused.value.field, refused.value.message) == ("operations[0].address.ward_code", "no ward 70 in 1")
    in_transit = base(S.IN_TRANSIT)
    paid = amend(in_transit, [ops.AddPayment(amount=1_000)], STAFF, ids(500), "picked", outside=strict)
    assert paid.paid == 1_000
    with pytest.raises(OrderNotAmendable, match=r"^cannot change recipient: no$"):
        amend(in_transit, [ops.SetRecipient(name="Hoa")], STAFF, ids(500), "picked", outside=strict)
