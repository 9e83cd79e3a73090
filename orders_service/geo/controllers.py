"""HTTP: the 2025 administrative units, for address pickers (public reference data), and the address resolver."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from orders_service.domain.errors import NotFound
from orders_service.geo import AddressError, provinces, wards
from orders_service.geo.address_in import AddressIn, AddressOut, address_out, resolve_in


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


class AddressController(Controller):
    path = "/api/addresses"
    tags = ["Addresses"]  # noqa: RUF012

    @post(
        "/resolve",
        status_code=200,
        summary="An address as typed (codes, names of old or 2025 units, or text) to 2025 codes",
        description=(
            "Takes what `recipient.address` and `set_address` take: `{line, ward_code, province_code}`, "
            "`{line, ward, district?, province}` (names of the pre-2025 units or of the 2025 ones, with or without "
            "accents, abbreviations such as P., Q., TX., TP., H., TT., TP.HCM, HN), or `{text}` "
            '("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"). Answers the 2025 ward and province with `input` (what was '
            "typed). Text or names that fit no 2025 ward, or several (an old ward split between new ones), are a "
            "422 whose error names the field (`address.text`, `address.ward`, ...) and lists `candidates` "
            "`[{ward_code, province_code, name}]` when there are any. Nothing is guessed: a bare street name is "
            "never taken for a ward, and a name that fits two wards once its accents are gone is a 422."
        ),
    )
    async def resolve(self, data: JSONBody[AddressIn]) -> AddressOut:
        return address_out(resolve_in(data, ""))  # the body is the address: fields as `text`, `ward`
