"""Pure: the parcel an order wants at its courier, and the calls that bring the courier there."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import msgspec

from couriers.base import Address, Item, Parcel, Status
from couriers.capabilities import Capabilities
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
    UPDATE_ITEMS = "update_items"
    UPDATE_COD = "update_cod"
    RECREATE = "recreate"  # cancel, then create under the next client code (couriers without an amend API)
    CANCEL = "cancel"
    FORGET = "forget"  # the order closed before any courier order existed: nothing to call


def client_code(order_code: str, generation: int) -> str:
    return order_code if generation == 1 else f"{order_code}-{generation}"


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
        note=order.note,
    )


def parcel_to_json(parcel: Parcel) -> dict[str, Any]:
    return dict(msgspec.to_builtins(parcel))


def parcel_from_json(data: dict[str, Any] | None) -> Parcel | None:
    return None if data is None else msgspec.convert(data, Parcel)


def plan(
    *,
    order_status: OrderStatus,
    tracking_code: str | None,
    create_attempted: bool,
    courier_status: Status | None,
    capabilities: Capabilities,
    synced: Parcel | None,
    desired: Parcel,
    cancel_requested: bool = False,
) -> list[Action]:
    """The courier calls, in order, that make the courier hold `desired` (or nothing, when it does).

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
    if synced is None:
        return [Action.UPDATE_RECIPIENT, Action.UPDATE_ITEMS, Action.UPDATE_COD]
    # Who pays the fee travels with the recipient's details (GHN's update takes both in one call).
    recipient_changed = (synced.recipient_name, synced.phones, _where(synced), synced.fee_payer) != (
        desired.recipient_name,
        desired.phones,
        _where(desired),
        desired.fee_payer,
    )
    items_changed = synced.items != desired.items or synced.try_on != desired.try_on
    cod_changed = synced.cod_amount != desired.cod_amount
    if not (recipient_changed or items_changed or cod_changed):
        return []
    # A courier order cancelled under us (by the courier, or by our own half-done recreate) is replaced.
    if courier_status is Status.CANCELLED or (capabilities.recreate_before_pickup and courier_status in BEFORE_PICKUP):
        return [Action.RECREATE]
    actions = []
    if recipient_changed:
        actions.append(Action.UPDATE_RECIPIENT)
    if items_changed:
        actions.append(Action.UPDATE_ITEMS)
    if cod_changed:
        actions.append(Action.UPDATE_COD)
    return actions


def _where(parcel: Parcel) -> tuple[str, int, int]:
    return parcel.address.line, parcel.address.ward_code, parcel.address.province_code
