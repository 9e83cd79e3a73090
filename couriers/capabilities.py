"""What each courier accepts to change, in which of its own statuses: data, read by the order gate and the sync.

Also, per courier, who pays the shipping fee in which of its fields (the tables themselves are FEE_FIELDS in each
courier's payloads module), and what the service does when the courier refuses a change. The README's shipping
section shows the same as a table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Aspect(enum.StrEnum):
    """The parts of a parcel a change can touch, as couriers group them in their amend APIs."""

    RECIPIENT = "recipient"  # name and phones
    ADDRESS = "address"
    COD = "cod"
    ITEMS = "items"


ALL_ASPECTS = frozenset(Aspect)
_CONTACT_AND_COD = frozenset({Aspect.RECIPIENT, Aspect.ADDRESS, Aspect.COD})


@dataclass(frozen=True)
class Capabilities:
    courier: str
    # Before pickup every aspect can change; `recreate_before_pickup` says it takes cancel-and-recreate.
    recreate_before_pickup: bool = False
    # After pickup: the courier's own status -> what it still accepts. A status not listed accepts nothing.
    after_pickup: Mapping[str, frozenset[Aspect]] = field(default_factory=dict)
    after_pickup_refusal: str = "the courier accepts no change once the parcel is picked up"
    try_on: bool = False
    partial_delivery: bool = False
    # Who pays the fee, in which fields (the table is FEE_FIELDS in the courier's payloads module).
    fee: str = ""
    # What the service does when the courier refuses a change it was sent.
    on_refusal: str = ""


# Couriers with an amend API: what orders_service/shipping/sync.py does with a refusal.
_PER_ASPECT = (
    "each aspect (recipient, address, COD, items) is its own call: a refused one is shown per aspect with the "
    "courier's message (shipment.refused, the dashboard, an event and a staff alert), the others still go "
    "through, and the refused value is not sent again until the order changes it or staff retry"
)


CAPABILITIES: dict[str, Capabilities] = {
    # Follows GHN's documented rules (CONTRACT.md, couriers.md section 1.5).
    "sandbox": Capabilities(
        courier="sandbox",
        after_pickup={status: _CONTACT_AND_COD for status in ("picked", "in_transit", "delivery_failed")},
        after_pickup_refusal="the sandbox courier accepts no change once the parcel is out for delivery, "
        "and never a change of items after pickup",
        try_on=True,
        partial_delivery=True,
        fee="cod_amount = our COD for both payers; fee_payer records who pays; the fee is billed to the shop",
        on_refusal=_PER_ASPECT,
    ),
    # GHN updateCOD is documented for these statuses, not while delivering; shipping-order/update takes
    # recipient and address (its status list is cut off in the docs, so the same list is assumed).
    "ghn": Capabilities(
        courier="ghn",
        after_pickup={
            status: _CONTACT_AND_COD
            for status in (
                "picked",
                "storing",
                "transporting",
                "sorting",
                "delivery_fail",
                "waiting_to_return",
            )
        },
        after_pickup_refusal="GHN accepts no change while the parcel is out for delivery, and never a change "
        "of items after pickup",
        try_on=True,
        partial_delivery=True,
        fee="cod_amount = our COD and payment_type_id = 1 (shop pays GHN) for both payers: with 2 GHN would add "
        "its fee to what the buyer pays",
        on_refusal=_PER_ASPECT + "; GHN's FAQ limits recipient changes (two), and an address goes as to_district_id "
        "and to_ward_code (ORDERS_GHN_UPDATE_ADDRESS=names sends ward and province names instead)",
    ),
    # GHTK has no amend API: changes before pickup cancel and recreate the order; after, nothing. GHTK cancels
    # only in its statuses 1, 2 and 12: the others, 7 and 8 (pickup impossible, postponed) too, count as picked up
    # (couriers/ghtk/statuses.py).
    "ghtk": Capabilities(
        courier="ghtk",
        recreate_before_pickup=True,
        after_pickup_refusal="GHTK has no amend API: once the parcel is picked up it cannot change",
        try_on=True,
        partial_delivery=True,
        fee="pick_money = our COD and is_freeship = 1 for both payers: with 0 GHTK would collect its fee on top",
        on_refusal="a refused cancel (picked up) stops the recreate and alerts staff; a new order refused after "
        "the old label was cancelled is retried with backoff until it exists (staff are alerted), and staff are "
        "told to print the new label",
    ),
    # Viettel Post: no field-level amend API was found (couriers.md §3.4), like GHTK: changes before pickup cancel
    # (UpdateOrder TYPE=4) and recreate; after pickup, nothing. Try-on is a note to the postman (ORDER_NOTE) and
    # no partial delivery is documented.
    "viettelpost": Capabilities(
        courier="viettelpost",
        recreate_before_pickup=True,
        after_pickup_refusal="Viettel Post has no amend API: once the parcel is picked up it cannot change",
        fee="MONEY_COLLECTION = our COD and ORDER_PAYMENT = 3 (collect the goods price only) for both payers, 1 "
        "when nothing is collected: with 2 VTP would collect its fee on top",
        on_refusal="a refused cancel (picked up) stops the recreate and alerts staff; a new order refused after "
        "the old one was cancelled is retried with backoff until it exists (staff are alerted), and staff are "
        "told to print the new label",
    ),
    # Ahamove (same-day, one driver from the shop to the door): PATCH /v3/orders/{id} changes the drop point
    # while the order waits for or has a driver (IDLE, ASSIGNING, ACCEPTED): name, phone and remarks freely; COD
    # and address once per point, only on the OnWheel service (couriers.md §5). Items never. Once the driver has
    # the parcel (IN PROCESS) nothing changes.
    "ahamove": Capabilities(
        courier="ahamove",
        after_pickup_refusal="Ahamove accepts no change once the driver has picked the parcel up",
        fee="the drop point's cod = our COD and payment_method = BALANCE for both payers: Ahamove takes its fee "
        "from the shop's balance, the driver collects exactly the COD",
        on_refusal=_PER_ASPECT + "; Ahamove changes COD and address once per point and only on its OnWheel "
        "service (VNM-PARTNER-...), and never the items",
    ),
}

COURIERS: tuple[str, ...] = tuple(CAPABILITIES)
