"""What the rules need from outside the domain, as values the service layer passes in (orders/outside.py wires them).

The domain imports nothing outside `orders_service.domain` (an import-linter contract keeps it so): the address
book and the couriers' capability table reach it through these shapes, so that its rules stay pure and can be
tested with any table.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


class Aspect(enum.StrEnum):
    """The parts of a parcel a change can touch, as couriers group them in their amend APIs.

    The same values as `couriers.capabilities.Aspect`, whose tables speak of them (a unit test keeps both equal).
    """

    RECIPIENT = "recipient"  # name and phones
    ADDRESS = "address"
    COD = "cod"
    ITEMS = "items"


# (province_code, ward_code) -> None when the pair exists, else (the faulty field, why): e.g. ("ward_code", "...").
UnitsProblem = Callable[[int, int], tuple[str, str] | None]


class CourierRules(Protocol):
    """What a courier still accepts once it has the parcel; `couriers.capabilities.Capabilities` has this shape."""

    @property
    def after_pickup(self) -> Mapping[str, frozenset[str]]:
        """The courier's own status -> the aspects (their values) it still accepts; unlisted statuses accept none."""

    @property
    def after_pickup_refusal(self) -> str:
        """Why it refuses the rest, as the customer or the staff read it."""


@dataclass(frozen=True, slots=True)
class Outside:
    """The address book and the couriers' rules, by courier name, that amendments and new orders consult."""

    units_problem: UnitsProblem
    couriers: Mapping[str, CourierRules]
