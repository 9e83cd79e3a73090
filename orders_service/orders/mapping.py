"""Between database rows and the domain's order value, and from both to the response."""

from __future__ import annotations

import functools
import uuid
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.base import NO_VALUE

from orders_service.catalogue.measure import DEFAULT_PARCEL_WEIGHT_G
from orders_service.catalogue.models import OrderParcel
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderLine, Shipment
from orders_service.domain.delivery import cod_mismatch
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
from orders_service.domain.money import compute_totals, line_amount
from orders_service.geo import Warehouse, distance_km, resolve_units, zone
from orders_service.orders import schemas as s
from orders_service.orders.pending import pending_of


def to_domain(row: OrderRow) -> Order:
    return Order(
        status=OrderStatus(row.status),
        recipient=Recipient(
            name=row.recipient_name,
            phones=tuple(row.recipient_phones),
            address=Address(
                line=row.address_line,
                ward_code=row.ward_code,
                province_code=row.province_code,
                input=row.address_input,
            ),
        ),
        lines=tuple(_line(line) for line in row.lines),
        shipping=Shipping(fee=row.shipping_fee, payer=Payer(row.shipping_payer)),
        paid=row.paid,
        discount_percent=row.discount_percent,
        discount_reason=row.discount_reason,
        courier=row.courier,
        note=row.note,
    )


def _line(row: OrderLine) -> Line:
    return Line(
        id=str(row.id),
        sku=row.sku,
        name=row.name,
        quantity=row.quantity,
        size=row.size,
        color=row.color,
        unit_price=row.unit_price,
        tryon_options=None
        if row.tryon_options is None
        else msgspec.convert(row.tryon_options, tuple[TryonOption, ...]),
        kept=None if row.kept is None else msgspec.convert(row.kept, tuple[KeptItem, ...]),
    )


def columns(order: Order) -> dict[str, Any]:
    """The `orders` columns that hold the domain order, with its recomputed money."""
    totals = compute_totals(order)
    address = order.recipient.address
    return {
        "status": str(order.status),
        "recipient_name": order.recipient.name,
        "recipient_phones": list(order.recipient.phones),
        "address_line": address.line,
        "ward_code": address.ward_code,
        "province_code": address.province_code,
        "address_input": address.input,
        "shipping_fee": order.shipping.fee,
        "shipping_payer": str(order.shipping.payer),
        "paid": order.paid,
        "discount_percent": order.discount_percent,
        "discount_reason": order.discount_reason,
        "courier": order.courier,
        "note": order.note,
        "subtotal": totals.subtotal,
        "discount_amount": totals.discount_amount,
        "total": totals.total,
        "cod_amount": totals.cod_amount,
        "refund_due": totals.refund_due,
    }


def line_columns(line: Line, position: int) -> dict[str, Any]:
    """The `order_lines` columns of a domain line (its id and order_id aside)."""
    return {
        "position": position,
        "sku": line.sku,
        "name": line.name,
        "size": line.size,
        "color": line.color,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "tryon_options": None if line.tryon_options is None else msgspec.to_builtins(line.tryon_options),
        "kept": None if line.kept is None else msgspec.to_builtins(line.kept),
    }


def write(row: OrderRow, order: Order) -> None:
    """Copy the domain order onto its row (lines matched by id) and store the recomputed money."""
    for name, value in columns(order).items():
        setattr(row, name, value)
    existing = {str(line.id): line for line in row.lines}
    lines = []
    for position, line in enumerate(order.lines):
        line_row = existing.get(line.id) or OrderLine(id=UUID(line.id))
        for name, value in line_columns(line, position).items():
            setattr(line_row, name, value)
        lines.append(line_row)
    row.lines = lines


def new_line_id() -> str:
    return str(uuid.uuid4())


@functools.lru_cache(maxsize=4096)
def delivery_zone(warehouse: Warehouse, province_code: int) -> tuple[str, int]:
    """Zone and distance of a province from the warehouse, for fee quotes; cached, it is on every answer."""
    km = distance_km((warehouse.lat, warehouse.lon), province_code)
    return zone(warehouse.province_code, province_code), round(km)


def render(row: OrderRow, merged_from: list[UUID], warehouse: Warehouse, order: Order | None = None) -> s.OrderOut:
    """The response for `row`, or for the would-be `order` of a dry run (same identity, new content)."""
    order = order or to_domain(row)
    totals = compute_totals(order)
    address = order.recipient.address
    units = resolve_units(address.province_code, address.ward_code)
    delivery, km = delivery_zone(warehouse, address.province_code)
    cod_collected = row.shipment.cod_collected if row.shipment is not None else None
    parcel = parcel_of(row)
    weights = parcel.lines if parcel is not None else {}
    return s.OrderOut(
        id=row.id,
        code=row.code,
        status=str(order.status),
        version=row.version,
        customer_id=row.customer_id,
        channel=row.channel,
        recipient=s.RecipientOut(
            name=order.recipient.name,
            phones=list(order.recipient.phones),
            address=s.AddressOut(
                line=address.line,
                ward_code=address.ward_code,
                province_code=address.province_code,
                ward_name=units.ward_name,
                province_name=units.province_name,
                input=address.input,
                zone=delivery,
                distance_km=km,
            ),
        ),
        lines=[
            s.LineOut(
                id=line.id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                amount=line_amount(line),
                size=line.size,
                color=line.color,
                unit_price=line.unit_price,
                tryon_options=None if line.tryon_options is None else _options(line, weights),
                kept=None if line.kept is None else list(line.kept),
                weight_g=weights.get(line.id, {}).get("weight_g"),
            )
            for line in order.lines
        ],
        subtotal=totals.subtotal,
        discount=s.DiscountOut(
            percent=order.discount_percent, amount=totals.discount_amount, reason=order.discount_reason
        ),
        shipping=s.ShippingOut(fee=order.shipping.fee, payer=str(order.shipping.payer)),
        total=totals.total,
        paid=order.paid,
        cod_amount=totals.cod_amount,
        refund_due=totals.refund_due,
        courier=order.courier,
        shipment=_shipment(row.shipment),
        merged_into=row.merged_into_id,
        merged_from=merged_from,
        split_from=row.split_from_id,
        note=order.note,
        created_at=row.created_at,
        updated_at=row.updated_at,
        cod_collected=cod_collected,
        cod_mismatch=cod_mismatch(order, cod_collected),
        pending_cancel=_pending(row),
        weight_g=parcel_weight(row),
        dimensions=_dimensions(parcel),
    )


def parcel_of(row: OrderRow) -> OrderParcel | None:
    """The order's measured parcel, when it was read with it (a draft row has none)."""
    value = sa_inspect(row).dict.get("parcel", NO_VALUE)  # not .attrs, which builds a view of every attribute
    return None if value is NO_VALUE else value


def parcel_weight(row: OrderRow) -> int:
    """What the parcel weighs: measured from the catalogue, else the default every parcel had before it."""
    parcel = parcel_of(row)
    return DEFAULT_PARCEL_WEIGHT_G if parcel is None else parcel.weight_g


def parcel_dimensions(row: OrderRow) -> tuple[int, int, int] | None:
    parcel = parcel_of(row)
    if parcel is None or not (parcel.length_cm and parcel.width_cm and parcel.height_cm):
        return None
    return (parcel.length_cm, parcel.width_cm, parcel.height_cm)


def _dimensions(parcel: OrderParcel | None) -> s.DimensionsOut | None:
    if parcel is None or not (parcel.length_cm and parcel.width_cm and parcel.height_cm):
        return None
    return s.DimensionsOut(length_cm=parcel.length_cm, width_cm=parcel.width_cm, height_cm=parcel.height_cm)


def _options(line: Line, weights: dict[str, Any]) -> list[s.TryonOptionOut]:
    known = weights.get(line.id, {}).get("options") or []
    return [
        s.TryonOptionOut(
            size=option.size,
            color=option.color,
            unit_price=option.unit_price,
            weight_g=known[j] if j < len(known) else None,
        )
        for j, option in enumerate(line.tryon_options or ())
    ]


def _pending(row: OrderRow) -> s.PendingCancelOut | None:
    waiting = pending_of(row)
    if waiting is None:
        return None
    return s.PendingCancelOut(
        requested_at=waiting.requested_at,
        by=s.ActorOut(kind=waiting.by.kind, id=waiting.by.id),
        reason=waiting.reason,
        for_=str(waiting.purpose),
        into=waiting.into,
    )


def _shipment(shipment: Shipment | None) -> s.ShipmentOut | None:
    if shipment is None:
        return None
    return s.ShipmentOut(
        courier=shipment.courier,
        tracking_code=shipment.tracking_code,
        status=shipment.status,
        cod_amount=shipment.cod_amount,
        synced_version=shipment.synced_version,
        sync_state=shipment.sync_state,
        last_error=shipment.last_error,
        fee=shipment.fee,
        refused={aspect: str(refusal["message"]) for aspect, refusal in (shipment.refused or {}).items()},
        return_code=shipment.return_code,
        return_status=shipment.return_status,
    )
