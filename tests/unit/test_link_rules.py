"""Pure rules of the edit link: when it opens, what the customer may change, at whose price; the form's reading."""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path

import pytest

from orders_service.domain import operations as ops
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.model import Address, Line, Order, OrderStatus, Payer, Recipient, Shipping
from orders_service.infra.settings import Settings, secret_key
from orders_service.links.forms import FormError, form_digest, form_operations, located, variant_value
from orders_service.links.rules import (
    LinkState,
    Variant,
    customer_operations,
    link_state,
    looks_like_token,
    offered_variants,
    token_hash,
)

NOW = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(hours=48)
L1 = "0b7e1c2a-9f4d-4c3e-8a51-6d2f0e9b1a77"
LINE = Line(id=L1, sku="DRESS-01", name="Đầm hoa", quantity=1, size="M", color="red", unit_price=450000)
ORDER = Order(
    status=OrderStatus.PENDING,
    recipient=Recipient(name="Lan", phones=("+84901234567",), address=Address("12 Lê Lợi", 26743, 79)),
    lines=(LINE,),
    shipping=Shipping(fee=30000, payer=Payer.CUSTOMER),
    paid=0,
)
OFFERS = {
    L1: offered_variants(LINE, [Variant("L", "red", 480000), Variant("L", "red", 1), Variant("S", "red", 400000)])
}


@pytest.mark.parametrize(
    ("revoked", "status", "now", "state"),
    [
        (None, OrderStatus.PENDING, NOW, LinkState.OPEN),
        (None, OrderStatus.READY_TO_SHIP, NOW, LinkState.OPEN),
        (None, OrderStatus.PENDING, LATER, LinkState.EXPIRED),
        # After pickup or a merge the link shows the order (read-only) until its time; a cancelled one expires.
        (None, OrderStatus.IN_TRANSIT, NOW, LinkState.READ_ONLY),
        (None, OrderStatus.DELIVERED, NOW, LinkState.READ_ONLY),
        (None, OrderStatus.MERGED, NOW, LinkState.READ_ONLY),
        (None, OrderStatus.IN_TRANSIT, LATER, LinkState.EXPIRED),
        (None, OrderStatus.CANCELLED, NOW, LinkState.EXPIRED),
        (NOW, OrderStatus.PENDING, NOW, LinkState.REVOKED),
        (NOW, OrderStatus.DELIVERED, LATER, LinkState.REVOKED),
    ],
)
def test_a_link_opens_until_its_time_or_its_order_moves_on(
    revoked: datetime.datetime | None, status: OrderStatus, now: datetime.datetime, state: LinkState
) -> None:
    assert link_state(LATER, revoked, status, now) is state


def test_tokens_are_256_bits_and_kept_as_their_hash() -> None:
    token = secrets.token_urlsafe(32)
    assert looks_like_token(token) and not looks_like_token(token[:-1]) and not looks_like_token(token + "/")
    assert len(token_hash(token)) == 64 and token not in token_hash(token)


def test_variants_on_offer_start_with_her_own_and_keep_the_latest_price() -> None:
    assert [(v.size, v.unit_price) for v in OFFERS[L1]] == [("M", 450000), ("S", 400000), ("L", 480000)]
    tryon = Line(id="t", sku="X", name="X", quantity=1, tryon_options=())
    assert offered_variants(tryon, [Variant("M", None, 1)]) == ()


def test_a_new_size_takes_the_shops_price_and_nothing_else_is_open() -> None:
    (swap,) = customer_operations(ORDER, [ops.SwapVariant(line_id=L1, size="L")], OFFERS)  # type: ignore[arg-type]
    assert isinstance(swap, ops.SwapVariant) and (swap.size, swap.color, swap.unit_price) == ("L", "red", 480000)
    with pytest.raises(InvalidField, match="price is the shop's"):
        customer_operations(ORDER, [ops.SwapVariant(line_id=L1, size="L", unit_price=1)], OFFERS)  # type: ignore[arg-type]
    with pytest.raises(InvalidField, match="does not offer"):
        customer_operations(ORDER, [ops.SwapVariant(line_id=L1, size="XL")], OFFERS)  # type: ignore[arg-type]
    with pytest.raises(OrderNotAmendable, match="customer's link"):
        customer_operations(ORDER, [ops.SetTryonOptions(line_id=L1, tryon_options=[])], OFFERS)  # type: ignore[arg-type]
    redeem = [ops.RedeemPoints(points=5)]
    assert customer_operations(ORDER, redeem, OFFERS) == redeem  # her own points: the ledger checks she has them
    staff_only = [ops.AddPayment(amount=1)]
    assert customer_operations(ORDER, staff_only, OFFERS) == staff_only  # the domain gate refuses it, with its reason


def _form(**changes: str) -> dict[str, str]:
    base = {
        "name": "Lan",
        "phone1": "0901 234 567",
        "province": "79",
        "ward": "26743",
        "street": "12 Lê Lợi",
        f"qty-{L1}": "1",
        f"variant-{L1}": variant_value(OFFERS[L1][0]),
    }
    return {**base, **changes}


def test_the_form_becomes_only_the_operations_that_change_something() -> None:
    with pytest.raises(FormError, match="nothing was changed"):
        form_operations(ORDER, _form(), OFFERS)
    found = form_operations(
        ORDER, _form(**{f"variant-{L1}": '["L","red"]', f"qty-{L1}": "2", "phone2": "0283 822 1234"}), OFFERS
    )
    assert [(section, ops.op_name(op)) for section, op in found] == [
        ("recipient", "set_recipient"),
        (f"line-{L1}", "swap_variant"),
        (f"line-{L1}", "set_quantity"),
    ]
    # Each error names the form's field it sits on, and the reason the page words (i18n's err.<code>).
    for bad, field, code in (
        (_form(ward="x"), "ward", "ward"),
        (_form(street=""), "street", "street.required"),
        (_form(phone1="12"), "phone1", "phone.too_short"),
        (_form(phone2="0283 822 1234 5"), "phone2", "phone.too_long"),
        (_form(phone2="+84 901 234 567"), "phone2", "phone.duplicate"),
        (_form(phone3="+1 650 253 0000"), "phone3", "phone.foreign"),
        (_form(phone2="abc"), "phone2", "phone.invalid"),
        (_form(phone1="", phone2=""), "phone1", "phone.required"),
        (_form(name=" "), "name", "name.required"),
        (_form(**{f"variant-{L1}": "[]"}), f"variant-{L1}", "variant"),
        (_form(**{f"qty-{L1}": "0"}), f"qty-{L1}", "qty.last_line"),  # her only line: the order keeps one
    ):
        with pytest.raises(FormError) as caught:
            form_operations(ORDER, bad, OFFERS)
        assert (caught.value.field, caught.value.code) == (field, code), bad


def test_a_field_path_of_the_api_becomes_the_form_field_it_came_from() -> None:
    sections = ["recipient", "address", f"line-{L1}"]
    form = _form(phone1="", phone2="0912 345 678", phone3="0283 822 1234")  # the empty field is not sent
    for path, field in (
        ("operations[0].phones[1]", "phone3"),
        ("operations[0].name", "name"),
        ("operations[1].address.ward_code", "ward"),
        ("operations[1].address.line", "street"),
        ("operations[2].size", f"variant-{L1}"),
        ("operations[2].line_id", f"qty-{L1}"),
        ("operations[7].name", "form"),
        ("customer_id", "form"),
    ):
        assert located(InvalidField(path, "why"), sections, form).field == field, path
    typed = _form(address_text="12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM")
    assert located(InvalidField("operations[1].address.ward_code", "why"), sections, typed).field == "address_text"
    assert form_digest(_form(action="preview", version="1")) == form_digest(_form(action="confirm", version="2"))
    assert form_digest(_form()) != form_digest(_form(street="13 Lê Lợi"))


def test_the_secret_key_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    first = secret_key(settings)
    assert len(first) >= 32 and secret_key(settings) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert secret_key(Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_SECRET_KEY": "k" * 40})) == "k" * 40
