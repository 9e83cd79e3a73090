"""The domain's outside world, wired: the 2025 administrative units and the couriers' capability table."""

from __future__ import annotations

from couriers.capabilities import CAPABILITIES
from orders_service.domain.outside import Outside
from orders_service.geo import AddressError, resolve_units


def units_problem(province_code: int, ward_code: int) -> tuple[str, str] | None:
    """None when the ward exists and lies in the province, else the faulty field and why."""
    try:
        resolve_units(province_code, ward_code)
    except AddressError as error:
        return error.field, error.message
    return None


OUTSIDE = Outside(units_problem=units_problem, couriers=CAPABILITIES)
