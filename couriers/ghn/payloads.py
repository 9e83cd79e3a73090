"""Request bodies for GHN's create, update and fee calls, built from our Parcel and Shop values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from couriers.base import Address, Item, Parcel, PermanentCourierError, Shop

# Who pays the shipping fee -> what GHN is sent besides `cod_amount` (always our COD, exactly). Our COD already
# holds the fee when the customer pays it (CONTRACT.md money rules), so GHN must collect exactly `cod_amount` and
# bill its own fee to the shop's account: payment_type_id 1 ("shop pays", couriers.md section 1.3) for both payers.
# With 2 ("buyer pays GHN") GHN would add its fee to what the buyer hands over: the fee twice.
FEE_FIELDS: Mapping[str, Mapping[str, int]] = {
    "customer": {"payment_type_id": 1},
    "shop": {"payment_type_id": 1},
}
# Address fields of shipping-order/update. GHN's update doc (GHN-75) lists only `to_ward_code` and `to_district_id`;
# whether the update takes the newer create doc's names is unconfirmed, so it is a setting.
UPDATE_ADDRESS_MODES = ("ids", "names")
MAX_CONTENT = 2000  # characters, per integrators' copies of the create doc


class Settings(Protocol):
    """What the bodies read from GhnConfig (a Protocol so this module does not import the adapter)."""

    @property
    def shop(self) -> Shop: ...
    @property
    def address_mode(self) -> str: ...
    @property
    def service_type_id(self) -> int: ...
    @property
    def insurance_limit(self) -> int: ...
    @property
    def dims_cm(self) -> tuple[int, int, int]: ...
    @property
    def update_address(self) -> str: ...


def local_phone(e164: str) -> str:
    """GHN takes Vietnamese numbers in the national form (0912345678), not E.164."""
    return "0" + e164[3:] if e164.startswith("+84") else e164


def e164_phone(local: str) -> str:
    return "+84" + local[1:] if local.startswith("0") else local


def address_fields(settings: Settings, address: Address, prefix: str) -> dict[str, Any]:
    """`to_` or `from_` address fields: 2025 names (the newer create doc), or GHN's own district and ward ids."""
    if settings.address_mode == "two_level":
        return {f"{prefix}_ward_name": address.ward_name, f"{prefix}_province_name": address.province_name}
    ids = address.courier_ids or {}
    district, ward = ids.get("district_id"), ids.get("ward_code")
    if district is None or ward is None:
        raise PermanentCourierError(
            f"no GHN district/ward for ward {address.ward_name} ({address.ward_code}), {address.province_name}: "
            "add it to the GHN mapping table",
            code="GHN_WARD_UNMAPPED",
        )
    return {f"{prefix}_district_id": int(district), f"{prefix}_ward_code": str(ward)}


def sender_address(settings: Settings) -> dict[str, Any]:
    try:
        return address_fields(settings, settings.shop.address, "from")
    except PermanentCourierError:
        # GHN falls back to the store registered under ShopId, which is where this shop ships from anyway.
        return {}


def sender_fields(settings: Settings) -> dict[str, Any]:
    shop = settings.shop
    return {
        "from_name": shop.name,
        "from_phone": local_phone(shop.phone),
        "from_address": shop.address.line,
        **sender_address(settings),
    }


def recipient_fields(parcel: Parcel) -> dict[str, Any]:
    """Name, the first phone, and a note that carries the other phones (GHN takes one)."""
    if not parcel.phones:
        raise PermanentCourierError(f"parcel {parcel.client_code} has no phone", code="GHN_NO_PHONE")
    others = [local_phone(phone) for phone in parcel.phones[1:]]
    note = "; ".join(part for part in (f"SĐT khác: {', '.join(others)}" if others else None, parcel.note) if part)
    return {"to_name": parcel.recipient_name, "to_phone": local_phone(parcel.phones[0]), "note": note}


def create_address_fields(settings: Settings, parcel: Parcel) -> dict[str, Any]:
    return {"to_address": parcel.address.line, **address_fields(settings, parcel.address, "to")}


def update_address_fields(settings: Settings, parcel: Parcel) -> dict[str, Any]:
    """The delivery address for shipping-order/update: GHN's documented ids, or names where the setting says so."""
    address = parcel.address
    if settings.update_address == "names":
        names = {"to_ward_name": address.ward_name, "to_province_name": address.province_name}
        return {"to_address": address.line, **names}
    ids = address.courier_ids or {}
    district, ward = ids.get("district_id"), ids.get("ward_code")
    if district is None or ward is None:
        raise PermanentCourierError(
            f"GHN updates an address by district and ward ids, and ward {address.ward_name} ({address.ward_code}), "
            f"{address.province_name} has none: add it to the GHN address map",
            code="GHN_WARD_UNMAPPED",
        )
    return {"to_address": address.line, "to_district_id": int(district), "to_ward_code": str(ward)}


def fee_fields(parcel: Parcel) -> dict[str, Any]:
    """`cod_amount` and the payer's fields from FEE_FIELDS: what GHN collects from the buyer is our COD, no more."""
    fields = FEE_FIELDS.get(parcel.fee_payer)
    if fields is None:
        raise PermanentCourierError(f"unknown fee payer {parcel.fee_payer!r}", code="GHN_FEE_PAYER")
    return {**fields, "cod_amount": parcel.cod_amount}


def required_note(parcel: Parcel) -> str:
    # No try-on means no viewing either: CHOXEMHANGKHONGTHU would let the buyer open the parcel.
    return "CHOTHUHANG" if parcel.try_on else "KHONGCHOXEMHANG"


def item_fields(settings: Settings, parcel: Parcel) -> dict[str, Any]:
    """Items, content, weight, declared value and whether she may try them on: what changes with the goods."""
    length, width, height = parcel.dims_cm or settings.dims_cm  # the shop's catalogue sizes, else the default
    return {
        "required_note": required_note(parcel),
        "items": [_item(item) for item in parcel.items],
        "content": "; ".join(f"{_item_name(item)} x{item.quantity}" for item in parcel.items)[:MAX_CONTENT],
        "weight": parcel.weight_g,
        "length": length,
        "width": width,
        "height": height,
        # GHN refuses a declared value above its insurance ceiling; insuring up to it beats not shipping.
        "insurance_value": min(parcel.value, settings.insurance_limit),
    }


def create_body(settings: Settings, parcel: Parcel) -> dict[str, Any]:
    return {
        "client_order_code": parcel.client_code,
        "service_type_id": settings.service_type_id,
        **sender_fields(settings),
        **recipient_fields(parcel),
        **create_address_fields(settings, parcel),
        **fee_fields(parcel),
        **item_fields(settings, parcel),
    }


def fee_body(settings: Settings, parcel: Parcel) -> dict[str, Any]:
    fields = item_fields(settings, parcel)
    return {
        "service_type_id": settings.service_type_id,
        **sender_address(settings),
        **address_fields(settings, parcel.address, "to"),
        "cod_value": parcel.cod_amount,
        **{key: fields[key] for key in ("weight", "length", "width", "height", "insurance_value")},
    }


def _item_name(item: Item) -> str:
    # GHN items have no size or colour; the name carries them so the driver and a try-on check see them.
    variant = ", ".join(part for part in (item.size, item.color) if part)
    return f"{item.name} ({variant})" if variant else item.name


def _item(item: Item) -> dict[str, Any]:
    return {"name": _item_name(item), "code": item.sku, "quantity": item.quantity, "price": item.unit_price}
