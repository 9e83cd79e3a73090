"""One round of a courier sync: what it read, and what the courier answered, written back once the calls end.

Also what the parcel holds when a create's answer never came back and a later round finds the parcel by its
client code: what the creates sent (remembered in `synced` until the courier order is known), which may be an older
order than the one the finding round wants; the next round sends the difference.
"""

from __future__ import annotations

from typing import Any

import msgspec

from couriers.base import Parcel, Remote
from couriers.capabilities import Aspect
from orders_service.db.models import Shipment
from orders_service.shipping import plan as p


def sent_by_creates(shipment: Shipment, desired: Parcel) -> dict[str, Any] | None:
    """What the parcel holds if a create of this generation reached the courier: what the first create sent, while
    every retry sends the same; None (unknown) once one sends something else, as either may be the one that landed."""
    if not shipment.create_attempted:
        return p.parcel_to_json(desired)
    sent = p.parcel_from_json(shipment.synced)
    return shipment.synced if sent is not None and not p.changed_aspects(sent, desired) else None


class Round:
    """What a round read, and what the courier answered: written back in a second short transaction."""

    def __init__(
        self, shipment: Shipment, version: int, desired: Parcel, synced: Parcel | None, actions: list[p.Action]
    ) -> None:
        self.shipment_id, self.version, self.desired, self.actions = shipment.id, version, desired, actions
        self.order_id, self.synced = shipment.order_id, synced  # what the courier held when the round began
        self.tracking_code, self.generation = shipment.tracking_code, shipment.generation
        self.fee, self.status = shipment.fee, shipment.status
        self.cancelled = False
        self.cancel_requested = False
        self.accepted: set[Aspect] = set()  # aspects the courier took in this run
        self.refused: dict[Aspect, str] = {}  # aspects it refused, with its message
        self.replaced: str | None = None  # the cancelled courier order a recreate replaces: its label is void
        self.attempted: Parcel | None = None  # what earlier creates of this generation sent, when known
        self.found: Remote | None = None  # a parcel an earlier create made, found by its client code

    def find(self, found: Remote) -> None:
        self.tracking_code, self.status, self.found = found.tracking_code, str(found.status), found

    @property
    def updates(self) -> set[Aspect]:
        """The aspects sent one by one in this run; none when the run created, recreated or cancelled."""
        return {p.ASPECT_OF[action] for action in self.actions if action in p.ASPECT_OF}

    @property
    def held(self) -> Parcel | None:
        """What the courier holds now: the aspects it took of `desired`, or all of it after a (re)create; for a
        parcel found instead of created, what the earlier creates sent (None: not known, every aspect is sent)."""
        if self.found is not None:
            sent = self.attempted
            if sent is None or sent.cod_amount != self.found.cod_amount or self.replaced is not None:
                return None
            return msgspec.structs.replace(sent, client_code=self.desired.client_code)
        if self.synced is None or (self.actions and not self.updates):
            return self.desired
        return p.held_after(self.synced, self.desired, self.accepted)

    @property
    def behind(self) -> bool:
        """The courier holds an older order than `desired` (a found parcel): another round sends the difference."""
        held = self.held
        return held is None or bool(p.changed_aspects(held, self.desired))
