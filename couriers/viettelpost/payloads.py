"""Our values turned into Viettel Post's request bodies (couriers.md §3.2, §3.3, §3.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from couriers.base import Address, Item, Parcel, PermanentCourierError, Shop

NO_AMEND = (
    "Viettel Post has no field-level amend API: before pickup the order is cancelled and recreated, after pickup "
    "it cannot change"
)
# §3.3 ORDER_PAYMENT: 1 collects nothing, 2 goods + VTP's fee, 3 the goods price (MONEY_COLLECTION) only, 4 the fee
# only. Our COD already holds the fee when the customer pays it, so both payers are 3 (or 1 when there is nothing
# to collect); 2 would make the customer pay the fee twice. VTP bills its fee to the shop's account.
FEE_FIELDS: Mapping[str, Mapping[str, int]] = {
    "customer": {"ORDER_PAYMENT": 3},
    "shop": {"ORDER_PAYMENT": 3},
}
NOTHING_TO_COLLECT = 1
# §3.3: try-on and viewing rules are free text in ORDER_NOTE; there is no enum like GHN's required_note.
TRY_ON_NOTE = "Cho xem hàng, cho thử"
NO_TRY_ON_NOTE = "Cho xem hàng, không cho thử"
GOODS = "HH"  # PRODUCT_TYPE: goods (TH is an envelope)
UNIT_KEYS = ("province_id", "district_id", "ward_id")


def national(phone: str) -> str:
    """0xxxxxxxxx from E.164: VTP's phones are national numbers."""
    phone = phone.strip()
    if phone.startswith("+84"):
        return "0" + phone[3:]
    if phone.startswith("0"):
        return phone
    raise PermanentCourierError(f"Viettel Post delivers in Vietnam and takes Vietnamese phone numbers, not {phone}")


def e164(phone: str) -> str:
    phone = phone.strip()
    return "+84" + phone[1:] if phone.startswith("0") else phone


def units(address: Address, who: str) -> tuple[int, int, int]:
    """VTP's own province, district and ward ids for a 2025 ward, from our address map (§3.2: numeric ids, still
    by district); refused, naming the ward, when it has no VTP mapping."""
    ids = address.courier_ids or {}
    try:
        province, district, ward = (int(ids[key]) for key in UNIT_KEYS)
    except (KeyError, TypeError, ValueError):
        raise PermanentCourierError(
            f"Viettel Post needs its province, district and ward ids for the {who}'s ward {address.ward_name} "
            f"({address.ward_code}), {address.province_name}: map the ward (PUT /api/couriers/viettelpost/"
            f'addresses/{address.ward_code} with {{"ids": {{"province_id", "district_id", "ward_id"}}}})'
        ) from None
    return province, district, ward


def full_address(address: Address) -> str:
    return ", ".join(part for part in (address.line, address.ward_name, address.province_name) if part)


def note(parcel: Parcel) -> str:
    # VTP takes one receiver phone; the other numbers must still reach the postman, who calls before delivering.
    others = [national(p) if p.startswith(("+84", "0")) else p for p in parcel.phones[1:]]
    parts = [TRY_ON_NOTE if parcel.try_on else NO_TRY_ON_NOTE]
    if parcel.note and parcel.note.strip():
        parts.append(parcel.note.strip())
    if others:
        parts.append("SĐT khác: " + ", ".join(others))
    return ". ".join(parts)


def fee_fields(parcel: Parcel) -> dict[str, Any]:
    """MONEY_COLLECTION is our COD exactly, and ORDER_PAYMENT from FEE_FIELDS (1 when nothing is collected)."""
    fields = FEE_FIELDS.get(parcel.fee_payer)
    if fields is None:
        raise PermanentCourierError(f"unknown fee payer {parcel.fee_payer!r}")
    payment = fields["ORDER_PAYMENT"] if parcel.cod_amount > 0 else NOTHING_TO_COLLECT
    return {"ORDER_PAYMENT": payment, "MONEY_COLLECTION": parcel.cod_amount}


def label(item: Item) -> str:
    # Try-on parcels hold the same dress in M and L: the postman must tell them apart by name.
    variant = ", ".join(part for part in (item.size, item.color) if part)
    return f"{item.name} ({variant})" if variant else item.name


def item_name(parcel: Parcel) -> str:
    return "; ".join(f"{label(item)} x{item.quantity}" for item in parcel.items)[:500] or "Hàng hóa"


def create_body(
    parcel: Parcel, shop: Shop, *, sender: tuple[int, int, int], groupaddress_id: int, cus_id: int, service: str
) -> dict[str, Any]:
    """The JSON body of POST /v2/order/createOrder for `parcel`, picked up at `shop` (§3.3)."""
    if not parcel.phones:
        raise PermanentCourierError(f"parcel {parcel.client_code} has no phone; Viettel Post requires RECEIVER_PHONE")
    province, district, ward = units(parcel.address, "recipient")
    units_in_items = sum(item.quantity for item in parcel.items)
    unit_weight = max(parcel.weight_g // units_in_items, 1) if units_in_items else parcel.weight_g
    return {
        "ORDER_NUMBER": parcel.client_code,  # our code; VTP answers with its own waybill number
        "GROUPADDRESS_ID": groupaddress_id,
        "CUS_ID": cus_id,
        "SENDER_FULLNAME": shop.name,
        "SENDER_ADDRESS": full_address(shop.address),
        "SENDER_PHONE": national(shop.phone),
        "SENDER_PROVINCE": sender[0],
        "SENDER_DISTRICT": sender[1],
        "SENDER_WARD": sender[2],
        "RECEIVER_FULLNAME": parcel.recipient_name,
        "RECEIVER_ADDRESS": full_address(parcel.address),
        "RECEIVER_PHONE": national(parcel.phones[0]),
        "RECEIVER_PROVINCE": province,
        "RECEIVER_DISTRICT": district,
        "RECEIVER_WARD": ward,
        "PRODUCT_NAME": item_name(parcel),
        "PRODUCT_QUANTITY": units_in_items,
        "PRODUCT_PRICE": parcel.value,
        "PRODUCT_WEIGHT": parcel.weight_g,  # grams (§7)
        "PRODUCT_TYPE": GOODS,
        "ORDER_SERVICE": service,
        "ORDER_SERVICE_ADD": "",
        "ORDER_NOTE": note(parcel),
        **fee_fields(parcel),
        "LIST_ITEM": [
            {
                "PRODUCT_NAME": label(item),
                "PRODUCT_PRICE": item.unit_price,
                "PRODUCT_WEIGHT": unit_weight,
                "PRODUCT_QUANTITY": item.quantity,
            }
            for item in parcel.items
        ],
    }


def price_body(parcel: Parcel, *, sender: tuple[int, int, int], service: str) -> dict[str, Any]:
    """The body of POST /v2/order/getPrice (§3.2): the route by VTP's ids, the weight, value and COD."""
    province, district, _ = units(parcel.address, "recipient")
    return {
        "SENDER_PROVINCE": sender[0],
        "SENDER_DISTRICT": sender[1],
        "RECEIVER_PROVINCE": province,
        "RECEIVER_DISTRICT": district,
        "PRODUCT_TYPE": GOODS,
        "PRODUCT_WEIGHT": parcel.weight_g,
        "PRODUCT_PRICE": parcel.value,
        "MONEY_COLLECTION": parcel.cod_amount,
        "ORDER_SERVICE": service,
        "ORDER_SERVICE_ADD": "",
        "NATIONAL_TYPE": 1,  # domestic
    }


def as_int(value: object) -> int:
    """VTP writes money as numbers or numeric strings."""
    if value is None or value == "":
        return 0
    try:
        return int(float(str(value)))
    except ValueError:
        raise PermanentCourierError(f"Viettel Post sent a non-numeric amount {value!r}") from None
