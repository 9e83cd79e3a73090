"""upsert_products, the importers' entry: create or update by SKU, one result per product, a bad one alone refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.catalogue.schemas import ProductIn
from orders_service.catalogue.services import upsert_products
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from tests.integration.api import Api, order_payload
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def product(sku: str, *variants: tuple[str, int, int], name: str = "Áo thun") -> ProductIn:
    body = {
        "sku": sku,
        "name": name,
        "weight_g": 250,
        "variants": [{"size": size, "price": price, "stock": stock} for size, price, stock in variants],
    }
    return msgspec.convert(body, ProductIn)


async def upsert(settings: Settings, products: list[ProductIn]) -> list[dict[str, object]]:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            results = await upsert_products(session, products)
    finally:
        await engine.dispose()
    return [msgspec.to_builtins(r) for r in results]


async def test_create_update_and_refuse_one_without_stopping_the_rest(settings: Settings, api: Api) -> None:
    first = await upsert(settings, [product("TEE-1", ("M", 150000, 4)), product("TEE-2", ("S", 120000, 1))])
    assert [(r["sku"], r["outcome"]) for r in first] == [("TEE-1", "created"), ("TEE-2", "created")]
    line = {"sku": "TEE-1", "name": "Áo thun", "size": "M", "quantity": 3}
    assert (await api.request("POST", "/api/orders", json=order_payload(lines=[line]))).status_code == 201

    again = await upsert(
        settings,
        [
            product("TEE-1", ("M", 160000, 2)),  # 3 are reserved: stock cannot go to 2
            product("TEE-2", ("S", 125000, 5), ("M", 125000, 2), name="Áo thun trơn"),
            product("TEE-3", ("M", 99000, 1), ("M", 99000, 2)),  # the same variant twice
            product("TEE-4", ("L", 130000, 0)),
        ],
    )
    assert [(r["sku"], r["outcome"]) for r in again] == [
        ("TEE-1", "invalid"),
        ("TEE-2", "updated"),
        ("TEE-3", "invalid"),
        ("TEE-4", "created"),
    ]
    assert again[0]["errors"] == [
        {"field": "variants[0].stock", "message": "3 are reserved by open orders: stock cannot be less than that"}
    ]
    assert again[2]["errors"][0]["field"] == "variants[1]"
    tee1 = (await api.request("GET", "/api/products/TEE-1")).json()
    assert [(v["price"], v["stock"], v["reserved"]) for v in tee1["variants"]] == [(150000, 4, 3)]  # untouched
    tee2 = (await api.request("GET", "/api/products/TEE-2")).json()
    assert tee2["name"] == "Áo thun trơn"
    assert [(v["size"], v["price"], v["stock"]) for v in tee2["variants"]] == [("S", 125000, 5), ("M", 125000, 2)]
    assert (await api.request("GET", "/api/products/TEE-3")).status_code == 404
