"""GHTK's district mode out of the box: the old district names of every 2025 ward ship with the service
(orders_service/geo/former.py), for the recipient and for the shop's own pickup address; an admin's mapping
still overrides them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import msgspec
import pytest

from couriers.ghtk import GhtkConfig, GhtkCourier
from fakes.ghtk.server import FakeGhtk
from orders_service.domain.model import Address, Line, Order, OrderStatus, Payer, Recipient, Shipping
from orders_service.geo import wards
from orders_service.geo.former import former_units
from orders_service.infra.settings import Settings
from orders_service.shipping.plan import desired_parcel
from orders_service.shipping.registry import shop_from

pytestmark = pytest.mark.anyio

BASE = "https://services-staging.ghtklab.com"
HAI_CHAU = next(code for code, name in wards(48) if name == "Phường Hải Châu")  # Đà Nẵng
THU_DAU_MOT = next(code for code, name in wards(79) if name == "Phường Thủ Dầu Một")  # was Bình Dương


def _order(ward: int, province: int) -> Order:
    return Order(
        status=OrderStatus.CONFIRMED,
        recipient=Recipient("Hoa", ("+84912345678",), Address("45 Bạch Đằng", ward, province)),
        lines=(Line(id="l1", sku="D", name="Đầm", quantity=1, unit_price=450_000),),
        shipping=Shipping(fee=30_000, payer=Payer.CUSTOMER),
        paid=0,
    )


def test_each_ward_knows_the_old_district_it_came_from() -> None:
    assert former_units(HAI_CHAU) is not None and former_units(HAI_CHAU).district_name == "Quận Hải Châu"
    units = former_units(THU_DAU_MOT)
    assert units is not None and units.province_name == "Tỉnh Bình Dương"
    assert units.district_name == "Thành Phố Thủ Dầu Một"
    reached = sum(former_units(code) is not None for p in (1, 79, 48) for code, _ in wards(p))
    assert reached == sum(len(wards(p)) for p in (1, 79, 48))


async def test_district_mode_ships_the_shop_and_the_recipient_without_any_mapping(tmp_path: Path) -> None:
    settings = Settings(  # the shop in Bến Thành, once of Quận 1
        data_dir=tmp_path,
        database_url="sqlite+aiosqlite://",
        warehouse_province=79,
        warehouse_ward=26743,
        shop_phone="0901112233",
    )
    config = GhtkConfig(
        token="tok-123",
        partner_code="S1000",
        shop=shop_from(settings),
        webhook_secret="x",
        base_url=BASE,
        address_mode="district",
    )
    legacy = FakeGhtk(token="tok-123", partner_code="S1000", require_district=True)
    async with httpx.AsyncClient(transport=legacy.transport()) as client:
        ghtk = GhtkCourier(config, client)
        await ghtk.create(desired_parcel(_order(HAI_CHAU, 48), "DH1", 1))
        quote = await ghtk.quote(79, desired_parcel(_order(THU_DAU_MOT, 79), "QUOTE", 1))
    order = msgspec.json.decode(legacy.calls[0].body)["order"]
    assert (order["pick_district"], order["district"]) == ("Quận 1", "Quận Hải Châu")
    asked = dict(parse_qsl(legacy.calls[-1].path.split("?", 1)[1]))
    assert (asked["pick_district"], asked["district"]) == ("Quận 1", "Thành Phố Thủ Dầu Một")
    assert quote.fee > 0


def test_an_admins_mapping_overrides_the_shipped_names() -> None:
    parcel = desired_parcel(_order(HAI_CHAU, 48), "DH1", 1, {"district_name": "Q. Hải Châu"})
    assert parcel.address.courier_ids is not None
    assert parcel.address.courier_ids["district_name"] == "Q. Hải Châu"
    assert parcel.address.courier_ids["old_ward_name"] == "Phường Hải Châu"
