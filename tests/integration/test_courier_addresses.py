"""The per-courier address map: admins map our 2025 wards to a courier's district-based ids."""

from __future__ import annotations

import pytest

from tests.integration.api import BEN_THANH, Api

pytestmark = pytest.mark.anyio


async def test_admins_map_wards_and_staff_cannot(api: Api) -> None:
    path = f"/api/couriers/ghn/addresses/{BEN_THANH}"
    body = {"ids": {"district_id": 1442, "ward_code": "20109"}}
    assert (await api.request("PUT", path, json=body)).status_code == 403
    made = await api.request("PUT", path, json=body, key="admin")
    assert made.status_code == 200, made.text
    assert made.json() == {
        "courier": "ghn",
        "ward_code": BEN_THANH,
        "ward_name": "Phường Bến Thành",
        "province_code": 79,
        "ids": {"district_id": 1442, "ward_code": "20109"},
    }
    again = await api.request("PUT", path, json={"ids": {"district_id": 1443}}, key="admin")
    assert again.json()["ids"] == {"district_id": 1443}
    listed = (await api.request("GET", "/api/couriers/ghn/addresses", key="admin")).json()
    assert listed["total"] == 1
    assert (await api.request("DELETE", path, key="admin")).status_code == 204
    assert (await api.request("GET", "/api/couriers/ghn/addresses", key="admin")).json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/couriers/dhl/addresses/26743", {"ids": {"x": 1}}, 404),
        ("/api/couriers/ghn/addresses/99999", {"ids": {"x": 1}}, 422),
        ("/api/couriers/ghn/addresses/26743", {"ids": {"Bad Key": 1}}, 422),
        ("/api/couriers/ghn/addresses/26743", {"ids": {"x": 1.5}}, 422),
    ],
)
async def test_bad_mappings_are_refused(api: Api, path: str, body: dict[str, object], status: int) -> None:
    response = await api.request("PUT", path, json=body, key="admin")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
