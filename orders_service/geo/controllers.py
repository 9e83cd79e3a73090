"""HTTP: the 2025 administrative units, for address pickers (public reference data)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from orders_service.domain.errors import NotFound
from orders_service.geo import AddressError, provinces, wards


class Unit(msgspec.Struct):
    code: int
    name: str


class GeoController(Controller):
    path = "/api/geo"
    tags = ["Addresses"]  # noqa: RUF012

    @get("/provinces", summary="The 34 provinces (2025 units)", cache=3600)
    async def list_provinces(self) -> list[Unit]:
        return [Unit(code=code, name=name) for code, name in provinces()]

    @get("/provinces/{province_code:int}/wards", summary="The wards of a province", cache=3600)
    async def list_wards(self, province_code: FromPath[int]) -> list[Unit]:
        try:
            return [Unit(code=code, name=name) for code, name in wards(province_code)]
        except AddressError:
            raise NotFound("province", province_code) from None
