"""Pure: what an order's lines weigh and measure from the catalogue, what she kept, and what couriers are sent."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from couriers.capabilities import Aspect
from couriers.ghn.payloads import item_fields
from orders_service.catalogue.measure import DEFAULT_PARCEL_WEIGHT_G, Found, Snapshot, kept, measure, wanted
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
from orders_service.shipping.plan import changed_aspects, desired_parcel

M, L, BLUE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
SNAPSHOT = Snapshot(
    {
        ("DRESS", "M", "red"): Found(M, "Đầm", 450000, 300, 30, 20, 4, 5, 0),
        ("DRESS", "L", "red"): Found(L, "Đầm", 470000, 350, 30, 20, 4, 1, 0),
        ("SHIRT", "L", "blue"): Found(BLUE, "Sơ mi", 380000, 200, None, None, None, 1, 0),
    }
)
DRESS_M = Line(id="a", sku="DRESS", name="Đầm", quantity=2, size="M", color="red", unit_price=450000)
TRYON = Line(
    id="b",
    sku="DRESS",
    name="Đầm",
    quantity=1,
    tryon_options=(TryonOption("M", "red", 450000), TryonOption("L", "red", 470000)),
)
HAT = Line(id="c", sku="HAT", name="Mũ", quantity=3, unit_price=90000)


def test_catalogue_weights_and_a_default_for_the_rest() -> None:
    size = measure([DRESS_M, TRYON, HAT], SNAPSHOT)
    assert size.weight_g == 2 * 300 + 300 + 350 + DEFAULT_PARCEL_WEIGHT_G
    assert (size.length_cm, size.width_cm, size.height_cm) == (30, 20, 4 * 4)  # laid side by side, stacked
    assert size.lines == {
        "a": {"weight_g": 600, "options": []},
        "b": {"weight_g": 650, "options": [300, 350]},
        "c": {"weight_g": None, "options": []},
    }
    assert measure([HAT], SNAPSHOT).weight_g == DEFAULT_PARCEL_WEIGHT_G  # as every parcel weighed before
    no_size = measure([Line(id="d", sku="SHIRT", name="Sơ mi", quantity=1, size="L", color="blue")], SNAPSHOT)
    assert (no_size.weight_g, no_size.height_cm) == (200, None)


def test_what_lines_want_and_an_unknown_variant_of_a_known_sku() -> None:
    counts, fields = wanted([DRESS_M, TRYON, HAT], SNAPSHOT)
    assert counts == {M: 3, L: 1}
    assert fields[M] == [("lines[0]", 2), ("lines[1].tryon_options[0]", 1)]
    with pytest.raises(InvalidField) as refused:
        wanted([Line(id="e", sku="DRESS", name="Đầm", quantity=1, size="XL", color="red")], SNAPSHOT)
    assert refused.value.field == "lines[0].size"


def test_kept_is_what_the_courier_reported_else_the_whole_line_or_the_dearest_options() -> None:
    assert kept([DRESS_M, TRYON], SNAPSHOT) == {M: 2, L: 1}
    one = Line(
        id="b",
        sku="DRESS",
        name="Đầm",
        quantity=1,
        tryon_options=TRYON.tryon_options,
        kept=(KeptItem("M", "red", 450000, 1),),
    )
    assert kept([one], SNAPSHOT) == {M: 1}


def test_couriers_are_sent_the_weight_and_size_and_a_new_size_is_an_items_change() -> None:
    order = Order(
        status=OrderStatus.READY_TO_SHIP,
        recipient=Recipient("Lan", ("+84901234567",), Address(line="1 Lê Lợi", ward_code=26743, province_code=79)),
        lines=(DRESS_M,),
        shipping=Shipping(fee=30000, payer=Payer.CUSTOMER),
        paid=0,
    )
    before = desired_parcel(order, "DH1", 1)
    after = desired_parcel(order, "DH1", 1, weight_g=600, dims_cm=(30, 20, 8))
    assert (before.weight_g, before.dims_cm) == (500, None)
    assert changed_aspects(before, after) == [Aspect.ITEMS]
    ghn = SimpleNamespace(dims_cm=(20, 15, 10), insurance_limit=5_000_000)
    fields = item_fields(ghn, after)  # type: ignore[arg-type]
    assert (fields["weight"], fields["length"], fields["width"], fields["height"]) == (600, 30, 20, 8)
    assert item_fields(ghn, before)["length"] == 20  # type: ignore[arg-type]  # the default box
