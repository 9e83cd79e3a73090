"""The courier adapters this process talks to, built from settings (or given, in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from couriers.base import Address, Courier, Shop
from orders_service.domain.errors import OrderNotAmendable
from orders_service.domain.phones import normalise_phone
from orders_service.geo import resolve_units
from orders_service.settings import Settings


class CourierNotConfigured(OrderNotAmendable):
    """Shipping through a courier this shop has no account with."""


class CourierRegistry:
    def __init__(self, couriers: Mapping[str, Courier]) -> None:
        self._couriers = dict(couriers)

    def get(self, name: str) -> Courier:
        courier = self._couriers.get(name)
        if courier is None:
            configured = ", ".join(sorted(self._couriers)) or "none"
            raise CourierNotConfigured(f"courier {name} is not configured for this shop (configured: {configured})")
        return courier

    def names(self) -> list[str]:
        return sorted(self._couriers)

    def add(self, courier: Courier) -> None:
        self._couriers[courier.name] = courier

    async def swap(self, courier: Courier) -> None:
        """Use `courier` from now on (new account details); the adapter it replaces is closed."""
        old = self._couriers.get(courier.name)
        self._couriers[courier.name] = courier
        if old is not None:
            await old.aclose()

    async def aclose(self) -> None:
        for courier in self._couriers.values():
            await courier.aclose()


def shop_from(settings: Settings) -> Shop:
    units = resolve_units(settings.warehouse_province, settings.warehouse_ward)
    return Shop(
        name=settings.shop_name,
        phone=normalise_phone(settings.shop_phone, "ORDERS_SHOP_PHONE"),
        address=Address(
            line=settings.shop_address,
            ward_code=units.ward_code,
            province_code=units.province_code,
            ward_name=units.ward_name,
            province_name=units.province_name,
        ),
    )


def external_couriers(settings: Settings) -> list[Courier]:
    """GHN and GHTK adapters for the accounts configured through ORDERS_GHN_* / ORDERS_GHTK_*."""
    found: list[Courier] = []
    shop = shop_from(settings)
    ghn = settings.couriers.get("ghn")
    if ghn and ghn.get("token"):
        from couriers.ghn.adapter import GhnConfig, GhnCourier

        found.append(
            GhnCourier(
                GhnConfig(
                    token=ghn["token"],
                    shop_id=int(ghn.get("shop_id", "0")),
                    shop=shop,
                    webhook_secret=ghn.get("webhook_secret", ""),
                    address_mode=ghn.get("address_mode", "two_level"),
                    **_base_url(ghn),
                )
            )
        )
    ghtk = settings.couriers.get("ghtk")
    if ghtk and ghtk.get("token"):
        from couriers.ghtk.adapter import GhtkConfig, GhtkCourier

        found.append(
            GhtkCourier(
                GhtkConfig(
                    token=ghtk["token"],
                    partner_code=ghtk.get("partner_code", ""),
                    shop=shop,
                    webhook_secret=ghtk.get("webhook_secret", ""),
                    address_mode=ghtk.get("address_mode", "two_level"),
                    **_base_url(ghtk),
                )
            )
        )
    return found


def _base_url(values: dict[str, str]) -> dict[str, Any]:
    return {"base_url": values["base_url"]} if "base_url" in values else {}
