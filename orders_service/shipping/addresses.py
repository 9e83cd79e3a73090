"""HTTP: the per-courier address map (admins): our 2025 ward in the terms of couriers that address by district."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody

from orders_service.auth.middleware import admin_only
from orders_service.db.models import CourierAddress
from orders_service.geo import find_ward
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page
from orders_service.shipping import address_map

IdValue = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")] | int


class AddressMapIn(msgspec.Struct, forbid_unknown_fields=True):
    """E.g. GHN: {"district_id": 1442, "ward_code": "20109"}; GHTK: {"district_name": "Quận 1"}."""

    ids: Annotated[dict[Annotated[str, msgspec.Meta(pattern="^[a-z_]{1,32}$")], IdValue], msgspec.Meta(max_length=8)]


class AddressMapOut(msgspec.Struct):
    courier: str
    ward_code: int
    ward_name: str
    province_code: int
    ids: dict[str, Any]


def _out(row: CourierAddress) -> AddressMapOut:
    units = find_ward(row.ward_code)
    assert units is not None  # only known wards are stored
    return AddressMapOut(
        courier=row.courier,
        ward_code=row.ward_code,
        ward_name=units.ward_name,
        province_code=units.province_code,
        ids=dict(row.ids),
    )


class CourierAddressController(Controller):
    path = "/api/couriers/{courier:str}/addresses"
    tags = ["Couriers"]  # noqa: RUF012
    guards = [admin_only]  # noqa: RUF012

    @put("/{ward_code:int}", summary="Map one of our wards to the courier's own ids (admin)")
    async def put_address(
        self, db_session: DbSession, courier: FromPath[str], ward_code: FromPath[int], data: JSONBody[AddressMapIn]
    ) -> AddressMapOut:
        return _out(await address_map.put_address(db_session, courier, ward_code, dict(data.ids)))

    @get("/", summary="The courier's address map (admin)")
    async def list_addresses(
        self, db_session: DbSession, courier: FromPath[str], limit: Limit = 50, offset: Offset = 0
    ) -> Page[AddressMapOut]:
        rows, total = await address_map.list_addresses(db_session, courier, limit, offset)
        return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @delete("/{ward_code:int}", status_code=204, summary="Forget a ward's mapping (admin)")
    async def delete_address(self, db_session: DbSession, courier: FromPath[str], ward_code: FromPath[int]) -> None:
        await address_map.delete_address(db_session, courier, ward_code)
