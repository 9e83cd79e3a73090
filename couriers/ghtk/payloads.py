"""Our values turned into GHTK's request bodies and back (couriers.md §2.2, §2.4, §2.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from couriers.base import Address, Parcel, PermanentCourierError, Shop, Status
from couriers.ghtk.statuses import STATUSES

NO_AMEND = "GHTK has no amend API: before pickup the order is cancelled and recreated, after pickup it cannot change"
# §2.2 tag 17, "partial delivery, customer selects products": the shipper waits while the customer tries the
# goods on, collects for what is kept and brings the rest back.
TRY_ON_TAG = 17
# §2.2: GHTK requires a level-4 `hamlet` and documents "Khác" (other) for addresses that have none.
NO_HAMLET = "Khác"
# Who pays the shipping fee -> what GHTK is sent besides `pick_money` (always our COD, exactly). is_freeship=1:
# the shipper collects exactly pick_money and GHTK bills its fee to the shop; 0 (GHTK's default) collects
# pick_money + the fee (couriers.md section 2.2). Our COD already holds the fee when the customer pays it, so
# both payers are 1; with 0 the customer would pay the fee twice.
FEE_FIELDS: Mapping[str, Mapping[str, int]] = {
    "customer": {"is_freeship": 1},
    "shop": {"is_freeship": 1},
}


def national(phone: str) -> str:
    """0xxxxxxxxx from E.164: GHTK's `tel` takes the national form."""
    phone = phone.strip()
    if phone.startswith("+84"):
        return "0" + phone[3:]
    if phone.startswith("0"):
        return phone
    raise PermanentCourierError(f"GHTK delivers in Vietnam and takes Vietnamese phone numbers only, not {phone}")


def e164(tel: str) -> str:
    tel = tel.strip()
    return "+84" + tel[1:] if tel.startswith("0") else tel


def district_name(address: Address, who: str) -> str:
    """The pre-reform district name GHTK may still require, from our mapping table; refused when unmapped."""
    name = (address.courier_ids or {}).get("district_name")
    if not isinstance(name, str) or not name.strip():
        raise PermanentCourierError(
            f"GHTK needs a district for the {who}'s ward {address.ward_name} ({address.ward_code}), "
            f"{address.province_name}, and the ward has no GHTK district mapping"
        )
    return name


def _note(parcel: Parcel) -> str | None:
    # GHTK takes one `tel`; the other numbers must still reach the shipper, who calls before delivering.
    # A foreign second number is still worth a call, so it goes in as given rather than being refused.
    others = [national(p) if p.startswith(("+84", "0")) else p for p in parcel.phones[1:]]
    parts = [parcel.note.strip()] if parcel.note and parcel.note.strip() else []
    if others:
        parts.append("SĐT khác: " + ", ".join(others))
    return ". ".join(parts) or None


def products(parcel: Parcel) -> list[dict[str, Any]]:
    # Items carry no weight of their own: the parcel's weight is shared per unit, in kg as §2.2 defaults to.
    units = sum(item.quantity for item in parcel.items)
    unit_kg = max(round(parcel.weight_g / units / 1000, 3), 0.001) if units else 0.0
    result = []
    for item in parcel.items:
        variant = ", ".join(part for part in (item.size, item.color) if part)
        result.append(
            {
                # Try-on parcels hold the same dress in M and L: the shipper must tell them apart by name.
                "name": f"{item.name} ({variant})" if variant else item.name,
                "weight": unit_kg,
                "quantity": item.quantity,
                "price": item.unit_price,
                "product_code": item.sku,
            }
        )
    return result


def fee_fields(parcel: Parcel) -> dict[str, Any]:
    """`pick_money` and the payer's fields from FEE_FIELDS: what the shipper collects is our COD, no more."""
    fields = FEE_FIELDS.get(parcel.fee_payer)
    if fields is None:
        raise PermanentCourierError(f"unknown fee payer {parcel.fee_payer!r}")
    return {"pick_money": parcel.cod_amount, **fields}


def create_body(parcel: Parcel, shop: Shop, *, address_mode: str, transport: str) -> dict[str, Any]:
    """The JSON body of POST /services/shipment/order/?ver=1.5 for `parcel`, picked up at `shop`."""
    if not parcel.phones:
        raise PermanentCourierError(f"parcel {parcel.client_code} has no phone; GHTK requires `tel`")
    pick, to = shop.address, parcel.address
    order: dict[str, Any] = {
        "id": parcel.client_code,  # the idempotency key: GHTK refuses a second order with the same id
        "pick_name": shop.name,
        "pick_address": pick.line,
        "pick_province": pick.province_name,
        "pick_ward": pick.ward_name,
        "pick_tel": national(shop.phone),
        "name": parcel.recipient_name,
        "address": to.line,
        "province": to.province_name,
        "ward": to.ward_name,
        "hamlet": NO_HAMLET,
        "tel": national(parcel.phones[0]),
        **fee_fields(parcel),
        "value": parcel.value,
        "transport": transport,
        "total_weight": parcel.weight_g / 1000,
    }
    if address_mode == "district":
        order["pick_district"] = district_name(pick, "shop")
        order["district"] = district_name(to, "recipient")
    note = _note(parcel)
    if note:
        order["note"] = note
    if parcel.try_on:
        order["tags"] = [TRY_ON_TAG]
    return {"products": products(parcel), "order": order}


def as_int(value: object) -> int:
    """GHTK writes money as numbers or numeric strings, depending on the endpoint."""
    if value is None or value == "":
        return 0
    try:
        return int(float(str(value)))
    except ValueError:
        raise PermanentCourierError(f"GHTK sent a non-numeric amount {value!r}") from None


def remote_status(raw: str) -> Status:
    try:
        return STATUSES[int(raw)][0]
    except (ValueError, KeyError):
        raise PermanentCourierError(f"GHTK reports status {raw!r}, which couriers.md §2.5 does not document") from None


def first_error_text(envelope: dict[str, Any]) -> str:
    message = envelope.get("message")
    return str(message) if message else "GHTK refused the call without a message"
