"""The courier adapters this process talks to, built from settings (or given, in tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from couriers.base import Address, Courier, Shop
from couriers.limits import MAX_IN_FLIGHT, CallLimit
from orders_service.domain.errors import OrderNotAmendable
from orders_service.domain.phones import normalise_phone
from orders_service.geo import resolve_units
from orders_service.geo.former import courier_names
from orders_service.infra.settings import Settings

# The couriers a shop holds its own account with (the sandbox is ours). An admin may save GHN's and GHTK's in the
# dashboard (shop_settings.services.ACCOUNTS); Viettel Post's and Ahamove's come from the environment only.
EXTERNAL = ("ghn", "ghtk", "viettelpost", "ahamove")
# What makes an account configured: a token, or for Viettel Post a username (with its password) to log in with.
CONFIGURED_BY = {"viettelpost": ("token", "username")}


class CourierNotConfigured(OrderNotAmendable):
    """Shipping through a courier this shop has no account with."""


class CourierRegistry:
    """The adapter in force for each courier, by name. Adapters come and go when an admin saves other account
    details (shop_settings.accounts); a caller keeps the adapter it got for as long as its work lasts."""

    def __init__(
        self,
        couriers: Mapping[str, Courier],
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self._couriers = dict(couriers)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limits: dict[str, CallLimit] = {}
        self.max_in_flight = max_in_flight
        self.timeouts = dict(timeouts or {})  # a call's whole time limit, per courier (settings.courier_timeout)
        self._transport = transport  # how the pools reach the couriers: the network, or a fake in tests
        self._refresh: Callable[[], Awaitable[None]] | None = None

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

    def remove(self, name: str) -> None:
        self._couriers.pop(name, None)

    def client(self, name: str) -> httpx.AsyncClient:
        """The one connection pool of this process for `name`, lent to every adapter built for it.

        Account details travel in each call's headers, so a replaced adapter needs no pool of its own: a call
        it still makes goes through, and replacing adapters never leaves connections behind. The registry
        closes the pools with itself.
        """
        if name not in self._clients:
            self._clients[name] = httpx.AsyncClient(transport=self._transport)
        return self._clients[name]

    def limit(self, name: str) -> CallLimit:
        """The one bound of this process on calls to `name`, shared like the pool by every adapter built for it."""
        if name not in self._limits:
            self._limits[name] = CallLimit(name.upper() if name in EXTERNAL else name, self.max_in_flight)
        return self._limits[name]

    def on_refresh(self, refresh: Callable[[], Awaitable[None]]) -> None:
        self._refresh = refresh

    async def refresh(self) -> None:
        """Re-read the saved accounts if they may be stale: for checks made before any transaction begins."""
        if self._refresh is not None:
            await self._refresh()

    async def aclose(self) -> None:
        for courier in self._couriers.values():
            await courier.aclose()
        for client in self._clients.values():
            await client.aclose()


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
            # GHTK's district mode sends the shop's old district too ("pick_district"): from the shipped table.
            courier_ids=courier_names(units.ward_code) or None,
        ),
    )


def build_courier(
    name: str, values: Mapping[str, str], shop: Shop, clients: CourierRegistry | None = None
) -> Courier | None:
    """The adapter for one account (None without a token). Raises ValueError for a value it cannot use.

    With `clients`, the adapter borrows that registry's pool for the courier instead of opening its own.
    """
    if not any(values.get(key) for key in CONFIGURED_BY.get(name, ("token",))):
        return None
    client = clients.client(name) if clients is not None else None
    limit = clients.limit(name) if clients is not None else None
    options: dict[str, Any] = {"base_url": values["base_url"]} if "base_url" in values else {}
    if values.get("timeout_s"):  # ORDERS_GHN_TIMEOUT_S, checked at start (settings.check_timing)
        options["timeout_s"] = float(values["timeout_s"])
    elif clients is not None and name in clients.timeouts:
        options["timeout_s"] = clients.timeouts[name]
    if name == "ghn":
        from couriers.ghn.adapter import GhnConfig, GhnCourier

        config = GhnConfig(
            token=values["token"],
            shop_id=int(values.get("shop_id") or "0"),
            shop=shop,
            webhook_secret=values.get("webhook_secret", ""),
            address_mode=values.get("address_mode", "two_level"),
            update_address=values.get("update_address", "ids"),
            **options,
        )
        return GhnCourier(config, client, limit)
    if name == "ghtk":
        from couriers.ghtk.adapter import GhtkConfig, GhtkCourier

        ghtk = GhtkConfig(
            token=values["token"],
            partner_code=values.get("partner_code", ""),
            shop=shop,
            webhook_secret=values.get("webhook_secret", ""),
            address_mode=values.get("address_mode", "two_level"),
            **options,
        )
        return GhtkCourier(ghtk, client, limit)
    if name == "viettelpost":
        return _viettelpost(values, shop, options, client, limit)
    if name == "ahamove":
        return _ahamove(values, shop, options, client, limit)
    raise ValueError(f"no adapter for courier {name!r}")


def _ints(value: str, count: int, name: str) -> tuple[int, ...]:
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != count or not all(p.isdigit() for p in parts):
        raise ValueError(f"{name} must be {count} whole numbers separated by commas, not {value!r}")
    return tuple(int(p) for p in parts)


def _viettelpost(
    values: Mapping[str, str], shop: Shop, options: dict[str, Any], client: Any, limit: CallLimit | None
) -> Courier:
    from couriers.viettelpost.adapter import VtpConfig, VtpCourier

    province, district, ward = _ints(values.get("sender_units", "0,0,0"), 3, "ORDERS_VIETTELPOST_SENDER_UNITS")
    config = VtpConfig(
        token=values.get("token", ""),
        username=values.get("username", ""),
        password=values.get("password", ""),
        shop=shop,
        webhook_secret=values.get("webhook_secret", ""),
        groupaddress_id=_ints(values.get("groupaddress_id", "0"), 1, "ORDERS_VIETTELPOST_GROUPADDRESS_ID")[0],
        cus_id=_ints(values.get("cus_id", "0"), 1, "ORDERS_VIETTELPOST_CUS_ID")[0],
        sender_units=(province, district, ward),
        service=values.get("service", "VCN"),
        **options,
    )
    return VtpCourier(config, client, limit)


def _ahamove(
    values: Mapping[str, str], shop: Shop, options: dict[str, Any], client: Any, limit: CallLimit | None
) -> Courier:
    from couriers.ahamove.adapter import AhamoveConfig, AhamoveCourier, parse_services

    extra: dict[str, Any] = {
        key: values[key] for key in ("v1_base_url", "webhook_auth", "webhook_header", "cancel_code") if key in values
    }
    if "services" in values:
        extra["services"] = parse_services(values["services"])
    config = AhamoveConfig(
        token=values["token"], shop=shop, webhook_secret=values.get("webhook_secret", ""), **extra, **options
    )
    return AhamoveCourier(config, client, limit)
