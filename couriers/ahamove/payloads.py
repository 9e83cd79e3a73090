"""Our values turned into Ahamove's request bodies (couriers.md §5): stop points, items, the service by city."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from couriers.base import Address, Parcel, PermanentCourierError, Shop

# Who pays the shipping fee -> what Ahamove is sent besides the drop point's `cod` (always our COD, exactly).
# BALANCE: Ahamove takes its fee from the shop's account and the driver collects the COD only; CASH would have the
# driver collect the fee at pickup, CASH_BY_RECIPIENT at the door, on top of our COD, which already holds the fee
# when the customer pays it. PATCH of COD and address also needs BALANCE or CASH (§5).
FEE_FIELDS: Mapping[str, Mapping[str, str]] = {
    "customer": {"payment_method": "BALANCE"},
    "shop": {"payment_method": "BALANCE"},
}
DROP = 1  # path[0] is the pickup, path[1] the one drop point of a parcel
ONWHEEL_PREFIX = "VNM-PARTNER-"  # §5: the only services whose COD and address may change


def national(phone: str) -> str:
    phone = phone.strip()
    if phone.startswith("+84"):
        return "0" + phone[3:]
    if phone.startswith("0"):
        return phone
    raise PermanentCourierError(f"Ahamove delivers in Vietnam and takes Vietnamese phone numbers, not {phone}")


def e164(phone: str) -> str:
    phone = phone.strip()
    return "+84" + phone[1:] if phone.startswith("0") else phone


def full_address(address: Address) -> str:
    return ", ".join(part for part in (address.line, address.ward_name, address.province_name) if part)


def _coordinates(address: Address) -> dict[str, float]:
    # [G] path points take lat/lng; whether Ahamove geocodes a point sent without them is unconfirmed. A ward
    # mapped with {"lat", "lng"} in our address map sends them; the address text goes either way.
    ids = address.courier_ids or {}
    try:
        return {"lat": float(ids["lat"]), "lng": float(ids["lng"])}
    except (KeyError, TypeError, ValueError):
        return {}


def remarks(parcel: Parcel) -> str:
    others = [national(p) if p.startswith(("+84", "0")) else p for p in parcel.phones[1:]]
    parts = ["Cho xem hàng, cho thử" if parcel.try_on else "Cho xem hàng, không cho thử"]
    if parcel.note and parcel.note.strip():
        parts.append(parcel.note.strip())
    if others:
        parts.append("SĐT khác: " + ", ".join(others))
    return ". ".join(parts)


def pickup(shop: Shop) -> dict[str, Any]:
    return {
        "address": full_address(shop.address),
        "short_address": shop.address.line,
        "name": shop.name,
        "mobile": national(shop.phone),
        **_coordinates(shop.address),
    }


def drop(parcel: Parcel) -> dict[str, Any]:
    if not parcel.phones:
        raise PermanentCourierError(f"parcel {parcel.client_code} has no phone; Ahamove requires the drop's mobile")
    return {
        "address": full_address(parcel.address),
        "short_address": parcel.address.line,
        "name": parcel.recipient_name,
        "mobile": national(parcel.phones[0]),
        "cod": parcel.cod_amount,  # per drop point (§5)
        "item_value": parcel.value,
        "tracking_number": parcel.client_code,
        "remarks": remarks(parcel),
        **_coordinates(parcel.address),
    }


def items(parcel: Parcel) -> list[dict[str, Any]]:
    result = []
    for item in parcel.items:
        variant = ", ".join(part for part in (item.size, item.color) if part)
        name = f"{item.name} ({variant})" if variant else item.name
        result.append({"_id": item.sku, "num": item.quantity, "name": name, "price": item.unit_price})
    return result


def payment(parcel: Parcel) -> dict[str, str]:
    fields = FEE_FIELDS.get(parcel.fee_payer)
    if fields is None:
        raise PermanentCourierError(f"unknown fee payer {parcel.fee_payer!r}")
    return dict(fields)


def create_body(parcel: Parcel, shop: Shop, service_id: str) -> dict[str, Any]:
    """The JSON body of POST /v3/orders (§5): now, one pickup and one drop point."""
    return {
        "order_time": 0,  # now
        "service_id": service_id,
        "path": [pickup(shop), drop(parcel)],
        "requests": [],
        "items": items(parcel),
        "remarks": remarks(parcel),
        **payment(parcel),
    }


def estimate_body(parcel: Parcel, shop: Shop, service_id: str) -> dict[str, Any]:
    """The JSON body of POST /v3/orders/estimates (§5): the same route, priced for one service."""
    return {
        "order_time": 0,
        "path": [pickup(shop), drop(parcel)],
        "services": [{"_id": service_id, "requests": []}],
        **payment(parcel),
    }


def recipient_patch(parcel: Parcel) -> dict[str, Any]:
    if not parcel.phones:
        raise PermanentCourierError(f"parcel {parcel.client_code} has no phone; Ahamove requires the drop's mobile")
    return {
        "path_index": DROP,
        "name": parcel.recipient_name,
        "mobile": national(parcel.phones[0]),
        "remarks": remarks(parcel),
    }


def address_patch(parcel: Parcel) -> dict[str, Any]:
    info: dict[str, Any] = {"address": full_address(parcel.address), **_coordinates(parcel.address)}
    return {"path_index": DROP, "address_info": info}
