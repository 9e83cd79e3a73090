"""The catalogue through HTTP: products with variants, stock on hand, reserved and available; bad input named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def product(sku: str = "DRESS-01", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku,
        "name": "Đầm hoa",
        "weight_g": 300,
        "length_cm": 30,
        "width_cm": 20,
        "height_cm": 5,
        "variants": [
            {"size": "M", "color": "red", "price": 450000, "stock": 5},
            {"size": "L", "color": "red", "price": 470000, "stock": 2, "weight_g": 350},
        ],
    }
    body.update(overrides)
    return body


async def test_create_read_search_patch(api: Api) -> None:
    created = await api.request("POST", "/api/products", json=product())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sku"] == "DRESS-01"
    assert [
        (v["size"], v["price"], v["weight_g"], v["stock"], v["reserved"], v["available"]) for v in body["variants"]
    ] == [
        ("M", 450000, 300, 5, 0, 5),
        ("L", 470000, 350, 2, 0, 2),
    ]
    await api.request("POST", "/api/products", json=product("SHIRT-02", name="Sơ mi trắng"))
    found = await api.request("GET", "/api/products", params={"q": "dam"})
    assert found.status_code == 200
    assert [p["sku"] for p in found.json()["items"]] == ["DRESS-01"]
    assert found.json()["total"] == 1
    page = (await api.request("GET", "/api/products", params={"limit": 1, "offset": 1})).json()
    assert (page["total"], [p["sku"] for p in page["items"]]) == (2, ["SHIRT-02"])
    patched = await api.request(
        "PATCH",
        "/api/products/DRESS-01",
        json={
            "name": "Đầm hoa nhí",
            "variants": [
                {"size": "M", "color": "red", "stock": 7},
                {"size": "S", "color": "red", "price": 440000, "stock": 1},
            ],
        },
    )
    assert patched.status_code == 200, patched.text
    got = (await api.request("GET", "/api/products/DRESS-01")).json()
    assert got["name"] == "Đầm hoa nhí"
    assert [(v["size"], v["stock"], v["available"]) for v in got["variants"]] == [("M", 7, 7), ("L", 2, 2), ("S", 1, 1)]


async def test_bad_products_name_the_field(api: Api) -> None:
    assert (await api.request("POST", "/api/products", json=product())).status_code == 201
    again = await api.request("POST", "/api/products", json=product())
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "sku"
    cases: list[tuple[dict[str, Any], str]] = [
        (product("X1", weight_g=0), "weight_g"),
        (product("X2", variants=[]), "variants"),
        (product("X3", variants=[{"size": "M", "price": -1, "stock": 1}]), "variants[0].price"),
        (
            product("X4", variants=[{"size": "M", "price": 1, "stock": 1}, {"size": "M", "price": 2, "stock": 1}]),
            "variants[1]",
        ),
        (product("X5", variants=[{"size": "M", "price": 1, "stock": 1.5}]), "variants[0].stock"),
        (product(" ", variants=[{"size": "M", "price": 1, "stock": 1}]), "sku"),
    ]
    for body, field in cases:
        response = await api.request("POST", "/api/products", json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field, response.text
    missing = await api.request("GET", "/api/products/NOPE")
    assert missing.status_code == 404
    new_variant = await api.request("PATCH", "/api/products/DRESS-01", json={"variants": [{"size": "XL", "price": 1}]})
    assert new_variant.status_code == 422
    assert new_variant.json()["errors"][0]["field"] == "variants[0].stock"
