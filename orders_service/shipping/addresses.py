"""HTTP: the per-courier address map (admins): our 2025 ward in the terms of couriers that address by district."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody
from sqlalchemy import func, select

from couriers.capabilities import COURIERS
from orders_service.auth.middleware import admin_only
from orders_service.db.engine import begin_write
from orders_service.db.models import CourierAddress
from orders_service.domain.errors import InvalidField, NotFound
from orders_service.geo import Units, find_ward
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page

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


def _check(courier: str, ward_code: int | None = None) -> Units | None:
    if courier not in COURIERS:
        raise NotFound("courier", courier[:32])
    if ward_code is None:
        return None
    units = find_ward(ward_code)
    if units is None:
        raise InvalidField("ward_code", f"unknown ward {ward_code} (2025 units)")
    return units


class CourierAddressController(Controller):
    path = "/api/couriers/{courier:str}/addresses"
    tags = ["Couriers"]  # noqa: RUF012
    guards = [admin_only]  # noqa: RUF012

    @put("/{ward_code:int}", summary="Map one of our wards to the courier's own ids (admin)")
    async def put_address(
        self, db_session: DbSession, courier: FromPath[str], ward_code: FromPath[int], data: JSONBody[AddressMapIn]
    ) -> AddressMapOut:
        _check(courier, ward_code)
        await begin_write(db_session)
        row = await db_session.scalar(
            select(CourierAddress).where(CourierAddress.courier == courier, CourierAddress.ward_code == ward_code)
        )
        if row is None:
            row = CourierAddress(courier=courier, ward_code=ward_code, ids=dict(data.ids))
            db_session.add(row)
        else:
            row.ids = dict(data.ids)
        await db_session.flush()
        return _out(row)

    @get("/", summary="The courier's address map (admin)")
    async def list_addresses(
        self, db_session: DbSession, courier: FromPath[str], limit: Limit = 50, offset: Offset = 0
    ) -> Page[AddressMapOut]:
        _check(courier)
        query = select(CourierAddress).where(CourierAddress.courier == courier)
        total = await db_session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await db_session.scalars(query.order_by(CourierAddress.ward_code).limit(limit).offset(offset))
        return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @delete("/{ward_code:int}", status_code=204, summary="Forget a ward's mapping (admin)")
    async def delete_address(self, db_session: DbSession, courier: FromPath[str], ward_code: FromPath[int]) -> None:
        _check(courier, ward_code)
        await begin_write(db_session)
        row = await db_session.scalar(
            select(CourierAddress).where(CourierAddress.courier == courier, CourierAddress.ward_code == ward_code)
        )
        if row is None:
            raise NotFound("address mapping", ward_code)
        await db_session.delete(row)
