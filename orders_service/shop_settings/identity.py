"""The shop as its customers know it: name, phone, address and the public URL its links start with.

The environment gives each (ORDERS_SHOP_NAME, ORDERS_SHOP_PHONE, ORDERS_SHOP_ADDRESS, ORDERS_PUBLIC_BASE_URL);
what an admin saved in the dashboard (`shop_settings` key `shop`) wins, field by field.
"""

from __future__ import annotations

from typing import Any

import msgspec
import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import ShopSetting
from orders_service.geo import AddressError, resolve_units
from orders_service.infra.settings import Settings

SHOP = "shop"


class ShopIdentity(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    phone: str  # E.164, as stored; `phone_shown` is how people write it
    address: str
    public_url: str

    @property
    def phone_shown(self) -> str:
        """+842838221234 -> 028 3822 1234; +84912345678 -> 0912 345 678."""
        try:
            number = phonenumbers.parse(self.phone, "VN")
        except phonenumbers.NumberParseException:
            return self.phone
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def env_address(settings: Settings) -> str:
    """The warehouse's street line with its ward and province names, as a customer would write it."""
    try:
        units = resolve_units(settings.warehouse_province, settings.warehouse_ward)
    except AddressError:  # refused at start by the couriers' sender; never hide the street line because of it
        return settings.shop_address
    return ", ".join(part for part in (settings.shop_address, units.ward_name, units.province_name) if part)


def identity_of(settings: Settings, stored: dict[str, Any] | None) -> ShopIdentity:
    saved = {k: v for k, v in (stored or {}).items() if isinstance(v, str) and v.strip()}
    return ShopIdentity(
        name=saved.get("name", settings.shop_name),
        phone=saved.get("phone", settings.shop_phone),
        address=saved.get("address", env_address(settings)),
        public_url=saved.get("public_url", settings.public_base_url).rstrip("/"),
    )


async def shop_identity(session: AsyncSession, settings: Settings) -> ShopIdentity:
    stored = await session.scalar(select(ShopSetting.value).where(ShopSetting.key == SHOP))
    return identity_of(settings, stored if isinstance(stored, dict) else None)


async def public_url(session: AsyncSession, default: str) -> str:
    """The start of the links customers get: the URL an admin set, else `default` (the environment's)."""
    stored = await session.scalar(select(ShopSetting.value).where(ShopSetting.key == SHOP))
    url = stored.get("public_url") if isinstance(stored, dict) else None
    return url.rstrip("/") if isinstance(url, str) and url.strip() else default
