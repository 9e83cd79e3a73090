"""Paginated lists read through advanced-alchemy's repositories keep the contract: `{items, total, limit, offset}`
with `total` counting every match even past the last page, date bounds from-inclusive and to-exclusive, and
name searches that take `%` and `_` literally. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio

WARDS = [26743, 26737, 26506]  # Bến Thành, Tân Định, Vũng Tàu (2025 units)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_a_page_past_the_end_still_counts_every_match(api: Api) -> None:
    orders = [await api.create_order() for _ in range(3)]
    customer = orders[0]["customer_id"]
    for ward in WARDS:
        put = await api.request("PUT", f"/api/couriers/ghn/addresses/{ward}", json={"ids": {"x": ward}}, key="admin")
        assert put.status_code == 200, put.text
    lists = {
        "/api/orders": 3,
        "/api/customers?q=lan": 3,
        f"/api/orders?customer_id={customer}": 1,
        f"/api/customers/{customer}/orders": 1,
        "/api/couriers/ghn/addresses": 3,
        "/api/campaigns": 0,
    }
    for path, total in lists.items():
        joiner = "&" if "?" in path else "?"
        first = await api.request("GET", f"{path}{joiner}limit=2&offset=0", key="admin")
        assert first.status_code == 200, (path, first.text)
        body = first.json()
        assert (len(body["items"]), body["total"], body["limit"], body["offset"]) == (min(total, 2), total, 2, 0)
        beyond = (await api.request("GET", f"{path}{joiner}limit=2&offset=10", key="admin")).json()
        assert beyond == {"items": [], "total": total, "limit": 2, "offset": 10}, path
    newest_first = (await api.request("GET", "/api/orders")).json()["items"]
    assert [o["id"] for o in newest_first] == [o["id"] for o in reversed(orders)]
    by_ward = (await api.request("GET", "/api/couriers/ghn/addresses", key="admin")).json()["items"]
    assert [a["ward_code"] for a in by_ward] == sorted(WARDS)


async def test_order_dates_are_from_inclusive_and_to_exclusive(api: Api) -> None:
    order = await api.create_order()
    made = datetime.datetime.fromisoformat(order["created_at"])
    later = made + datetime.timedelta(microseconds=1)

    async def found(**bounds: datetime.datetime) -> int:
        params = {name: moment.isoformat() for name, moment in bounds.items()}
        response = await api.request("GET", "/api/orders", params=params)
        assert response.status_code == 200, response.text
        total: int = response.json()["total"]
        return total

    assert await found(created_from=made) == 1
    assert await found(created_from=later) == 0
    assert await found(created_to=made) == 0
    assert await found(created_to=later) == 1
    assert await found(created_from=made, created_to=later) == 1


@pytest.mark.parametrize("q", ["%", "_", "l_n", "%an", "a/n", "\\"])
async def test_name_search_takes_wildcards_literally(api: Api, q: str) -> None:
    await api.create_order()  # her name is Nguyễn Thị Lan
    response = await api.request("GET", "/api/customers", params={"q": q})
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0
    assert (await api.request("GET", "/api/customers", params={"q": "THI  lân"})).json()["total"] == 1
