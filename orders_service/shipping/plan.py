"""Pure: the parcel an order wants at its courier, and the calls that bring the courier there.

A parcel is four aspects (recipient, address, COD, items), each sent in its own call: a courier may take one
and refuse another (GHN's limit on recipient changes), and a refusal of one never holds back the others.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from couriers.base import Address, Item, Parcel, Status
from couriers.capabilities import Aspect, Capabilities
from orders_service.domain.model import Order, OrderStatus
from orders_service.domain.money import compute_totals
from orders_service.geo import resolve_units

CLOSED = frozenset({OrderStatus.CANCELLED, OrderStatus.MERGED})
BEFORE_PICKUP = frozenset({Status.CREATED})
# Once the courier has finished, its report is the truth: what changes then (kept items) is not pushed back.
FINISHED = frozenset({Status.DELIVERED, Status.PARTIALLY_DELIVERED, Status.RETURNING, Status.RETURNED})


class Action(enum.StrEnum):
    CREATE = "create"
    LOOKUP = "lookup"  # a create may have reached the courier without its answer reaching us
    UPDATE_RECIPIENT = "update_recipient"
    UPDATE_ADDRESS = "update_address"
    UPDATE_ITEMS = "update_items"
    UPDATE_COD = "update_cod"
    RECREATE = "recreate"  # cancel, then create under the next client code (couriers without an amend API)
    CANCEL = "cancel"
    FORGET = "forget"  # the order closed before any courier order existed: nothing to call


# Each aspect's update, in the order they are sent; and the Parcel fields each aspect holds.
UPDATES: dict[Aspect, Action] = {
    Aspect.RECIPIENT: Action.UPDATE_RECIPIENT,
    Aspect.ADDRESS: Action.UPDATE_ADDRESS,
    Aspect.ITEMS: Action.UPDATE_ITEMS,
    Aspect.COD: Action.UPDATE_COD,
}
ASPECT_OF: dict[Action, Aspect] = {action: aspect for aspect, action in UPDATES.items()}
# Who pays the fee is part of the money: every courier's fee table (couriers/*/payloads.py) sends the same fields
# for both payers, so a payer change reaches the courier as the COD it changes.
FIELDS: dict[Aspect, tuple[str, ...]] = {
    Aspect.RECIPIENT: ("recipient_name", "phones", "note"),
    Aspect.ADDRESS: ("address",),
    Aspect.ITEMS: ("items", "try_on", "value", "weight_g"),
    Aspect.COD: ("cod_amount", "fee_payer"),
}
DEFAULT_WEIGHT_G = 500
_COMPARED: dict[Aspect, tuple[str, ...]] = {**FIELDS, Aspect.RECIPIENT: ("recipient_name", "phones")}


def client_code(order_code: str, generation: int) -> str:
    return order_code if generation == 1 else f"{order_code}-{generation}"


def parcel_weight(order: Order) -> int:
    """Grams the courier is told the parcel weighs: the one place quotes and courier orders read it from.

    Every parcel is declared at the same weight today (the weight Parcel had as its default); weights of the
    lines' products replace this line when the catalogue holds them.
    """
    return DEFAULT_WEIGHT_G


def desired_parcel(
    order: Order, order_code: str, generation: int, courier_ids: Mapping[str, Any] | None = None
) -> Parcel:
    """The parcel as the order wants it now; try-on lines send every option to the door."""
    address = order.recipient.address
    units = resolve_units(address.province_code, address.ward_code)
    items: list[Item] = []
    for line in order.lines:
        if line.tryon_options is None:
            items.append(
                Item(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price or 0,
                    size=line.size,
                    color=line.color,
                )
            )
            continue
        for option in line.tryon_options:
            items.append(
                Item(
                    sku=line.sku,
                    name=line.name,
                    quantity=1,
                    unit_price=option.unit_price,
                    size=option.size,
                    color=option.color,
                )
            )
    totals = compute_totals(order)
    return Parcel(
        client_code=client_code(order_code, generation),
        recipient_name=order.recipient.name,
        phones=order.recipient.phones,
        address=Address(
            line=address.line,
            ward_code=address.ward_code,
            province_code=address.province_code,
            ward_name=units.ward_name,
            province_name=units.province_name,
            courier_ids=dict(courier_ids) if courier_ids else None,
        ),
        items=tuple(items),
        cod_amount=totals.cod_amount,
        value=totals.subtotal,
        fee_payer=str(order.shipping.payer),
        try_on=any(line.is_tryon for line in order.lines),
        weight_g=parcel_weight(order),
        note=order.note,
    )


def parcel_to_json(parcel: Parcel) -> dict[str, Any]:
    return dict(msgspec.to_builtins(parcel))


def parcel_from_json(data: dict[str, Any] | None) -> Parcel | None:
    return None if data is None else msgspec.convert(data, Parcel)


def aspect_value(parcel: Parcel, aspect: Aspect) -> Any:
    """What `parcel` holds of one aspect, as JSON values: compared between syncs, and kept with a refusal."""
    if aspect is Aspect.ADDRESS:
        address = parcel.address  # the courier's own ids follow from the ward; they are not a change of their own
        return [address.line, address.ward_code, address.province_code]
    # Through JSON, so that a value read back from the database compares equal (tuples come back as lists).
    return msgspec.json.decode(msgspec.json.encode([getattr(parcel, name) for name in _COMPARED[aspect]]))


def changed_aspects(synced: Parcel | None, desired: Parcel) -> list[Aspect]:
    if synced is None:
        return list(UPDATES)
    return [aspect for aspect in UPDATES if aspect_value(synced, aspect) != aspect_value(desired, aspect)]


def held_after(synced: Parcel | None, desired: Parcel, accepted: Iterable[Aspect]) -> Parcel:
    """The parcel the courier holds once it took the `accepted` aspects of `desired`: the others stay as they were."""
    if synced is None:
        return desired
    kept = {name: getattr(synced, name) for aspect in set(UPDATES) - set(accepted) for name in FIELDS[aspect]}
    return msgspec.structs.replace(desired, **kept)


def plan(
    *,
    order_status: OrderStatus,
    tracking_code: str | None,
    create_attempted: bool,
    courier_status: Status | None,
    capabilities: Capabilities,
    synced: Parcel | None,
    desired: Parcel,
    refused: Mapping[str, Any] | None = None,
    cancel_requested: bool = False,
) -> list[Action]:
    """The courier calls, in order, that make the courier hold `desired` (or nothing, when it does).

    `refused` maps an aspect to the value the courier refused for it: that value is not sent again (the courier
    said no to exactly it); a new value is, and so is the old one once staff ask for a retry (which clears it).
    `cancel_requested`: a cancel or merge waits for the courier to cancel the parcel (orders/pending.py).
    """
    if courier_status in FINISHED:
        return []
    if order_status in CLOSED or cancel_requested:
        if tracking_code is None:
            return [Action.LOOKUP, Action.CANCEL] if create_attempted else [Action.FORGET]
        return [] if courier_status is Status.CANCELLED else [Action.CANCEL]
    if tracking_code is None:
        return [Action.LOOKUP, Action.CREATE] if create_attempted else [Action.CREATE]
    changed = changed_aspects(synced, desired)
    if not changed:
        return []
    # A courier order cancelled under us (by the courier, or by our own half-done recreate) is replaced.
    if courier_status is Status.CANCELLED or (capabilities.recreate_before_pickup and courier_status in BEFORE_PICKUP):
        return [Action.RECREATE]
    refused = refused or {}
    return [UPDATES[aspect] for aspect in changed if refused.get(aspect) != aspect_value(desired, aspect)]


def refusals_after(
    before: Mapping[str, Any] | None,
    held: Parcel,
    desired: Parcel,
    attempted: Iterable[Aspect],
    refused_now: Mapping[Aspect, str],
) -> dict[str, Any]:
    """What stays refused once a sync ran: this run's refusals, and earlier ones for aspects it did not send
    that the courier still does not hold (an aspect that now matches, or was accepted, is no longer refused)."""
    tried = set(attempted)
    kept = {
        aspect: refusal
        for aspect, refusal in (before or {}).items()
        if Aspect(aspect) not in tried and aspect_value(held, Aspect(aspect)) != aspect_value(desired, Aspect(aspect))
    }
    fresh = {
        str(aspect): {"message": message, "value": aspect_value(desired, aspect)}
        for aspect, message in refused_now.items()
    }
    return {**kept, **fresh}
