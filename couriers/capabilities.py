"""What each courier accepts to change, in which of its own statuses: data, read by the order gate."""

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


CAPABILITIES: dict[str, Capabilities] = {
    # Follows GHN's documented rules (CONTRACT.md, couriers.md section 1.5).
    "sandbox": Capabilities(
        courier="sandbox",
        after_pickup={status: _CONTACT_AND_COD for status in ("picked", "in_transit", "delivery_failed")},
        after_pickup_refusal="the sandbox courier accepts no change once the parcel is out for delivery, "
        "and never a change of items after pickup",
        try_on=True,
        partial_delivery=True,
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
    ),
    # GHTK has no amend API: changes before pickup cancel and recreate the order; after, nothing.
    "ghtk": Capabilities(
        courier="ghtk",
        recreate_before_pickup=True,
        after_pickup_refusal="GHTK has no amend API: once the parcel is picked up it cannot change",
        try_on=True,
        partial_delivery=True,
    ),
}

COURIERS: tuple[str, ...] = tuple(CAPABILITIES)
