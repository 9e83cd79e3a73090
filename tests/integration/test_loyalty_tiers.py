"""Tiers by hand and by schedule: the manual floor (admins), the tier history, and the daily review."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.app import create_app
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from orders_service.loyalty.program import PROGRAM_KEY, program_from
from orders_service.loyalty.tier_services import review_tiers
from tests.integration.api import Api, Shipping
from tests.integration.test_loyalty import BAG, deliver, get

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(settings: Settings) -> Litestar:
    # A return lowers her tier only at her review, 30 days after her last move.
    return create_app(msgspec.structs.replace(settings, tier_downgrade="review", tier_review_days=30))


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


async def review(settings: Settings, now: datetime.datetime) -> int:
    """The daily job on its own engine and with the app's program, as a beat worker runs it."""
    engine = create_engine(settings)
    try:
        program = program_from(msgspec.structs.replace(settings, tier_downgrade="review", tier_review_days=30))
        db = async_sessionmaker(engine, expire_on_commit=False, info={PROGRAM_KEY: program})
        return await review_tiers(db, now)
    finally:
        await engine.dispose()


def moves(history: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(h["from_tier"], h["to_tier"]) for h in reversed(history["items"])]


async def test_a_return_lowers_the_tier_at_the_review_not_before(
    api: Api, shipping: Shipping, settings: Settings
) -> None:
    order = await api.create_order(lines=[BAG])
    me = order["customer_id"]
    delivered = await deliver(api, shipping, order)
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["tier"] == "gold"
    returned = await api.request(
        "POST", f"/api/orders/{order['id']}/return", headers={"If-Match": f'"{delivered["version"]}"'}
    )
    assert returned.status_code == 200, returned.text
    profile = await get(api, f"/api/customers/{me}/profile")
    assert (profile["loyalty"]["tier"], profile["loyalty"]["lifetime_spend"]) == ("gold", 0)

    now = datetime.datetime.now(datetime.UTC)
    assert await review(settings, now) == 0  # not due yet
    assert await review(settings, now + datetime.timedelta(days=31)) == 1
    assert await review(settings, now + datetime.timedelta(days=31)) == 0  # reviewed: her next review is later
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["tier"] == "member"
    history = await get(api, f"/api/customers/{me}/tier-history")
    assert moves(history) == [("member", "gold"), ("gold", "member")]
    assert history["items"][0]["reason"] == "below gold thresholds"


async def test_a_manual_floor_holds_her_tier_until_lifted(api: Api, settings: Settings) -> None:
    order = await api.create_order()
    me = order["customer_id"]
    path = f"/api/customers/{me}/tier-floor"
    staff = await api.request("PUT", path, json={"manual_floor": "gold"})
    assert staff.status_code == 403, staff.text

    held = await api.request("PUT", path, json={"manual_floor": "gold"}, key="admin")
    assert held.status_code == 200, held.text
    assert (held.json()["tier"], held.json()["manual_floor"]) == ("gold", "gold")
    assert (await api.create_order(customer_id=me))["discount"]["percent"] == 25

    lifted = await api.request("PUT", path, json={"manual_floor": None}, key="admin")
    assert lifted.status_code == 200, lifted.text
    # Lifting a floor lets the downgrade rule decide at once, as if her review were due: her spend is 0.
    assert (lifted.json()["tier"], lifted.json()["manual_floor"]) == ("member", None)
    assert await review(settings, datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)) == 0
    assert (await get(api, f"/api/customers/{me}/profile"))["loyalty"]["tier"] == "member"
    reasons = [h["reason"] for h in reversed((await get(api, f"/api/customers/{me}/tier-history"))["items"])]
    assert reasons[0].startswith("manual floor gold by ") and reasons[-1] == "below gold thresholds"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"manual_floor": "platinum"}, 422, "manual_floor"),
        ({"manual_floor": ""}, 422, "manual_floor"),
        ({"manual_floor": 3}, 422, "manual_floor"),
        ({"floor": "gold"}, 422, "floor"),
    ],
)
async def test_bad_floors_are_4xx_naming_the_field(
    api: Api, body: dict[str, Any], status: int, field: str | None
) -> None:
    order = await api.create_order()
    path = f"/api/customers/{order['customer_id']}/tier-floor"
    response = await api.request("PUT", path, json=body, key="admin")
    assert response.status_code == status, response.text
    if field is not None:
        assert field in response.text
    unknown = await api.request(
        "PUT",
        "/api/customers/0193b3a2-7c1e-7000-8000-000000000001/tier-floor",
        json={"manual_floor": None},
        key="admin",
    )
    assert unknown.status_code == 404, unknown.text
