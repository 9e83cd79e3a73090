"""Admin settings: loyalty rules in force at once, courier secrets never shown whole, quiet hours kept."""

from __future__ import annotations

import datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.db.engine import create_engine
from orders_service.notifications_app.config import NOTIFY_KEY, NotifySource, config_of
from orders_service.settings import Settings
from tests.integration.api import Api
from tests.integration.dashboard import Dashboard, make_user

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    await make_user(settings, "boss", "admin")
    dashboard = Dashboard(client)
    assert (await dashboard.login("boss")).status_code == 303
    return dashboard


LOYALTY = {
    "tiers": "member:3:0:0,standard:5:0:1,gold:20:3000000:1",
    "vnd_per_point": "20000",
    "vnd_per_redeemed_point": "1000",
    "points_expire_days": "180",
    "tier_downgrade": "never",
    "tier_review_days": "365",
}


async def test_loyalty_rules_change_the_program_in_force(admin: Dashboard, api: Api) -> None:
    page = await admin.get("/dashboard/settings")
    assert page.status_code == 200 and "gold:25:5000000:1" in page.text  # the environment's, until changed
    saved = await admin.post("/dashboard/settings/loyalty", LOYALTY)
    assert saved.status_code == 303
    assert "gold:20:3000000:1" in (await admin.get("/dashboard/settings")).text
    order = await api.create_order()  # a new customer: the first tier's percent, as just saved
    assert order["discount"]["percent"] == 3 and order["discount"]["amount"] == 13500
    for field, value in (("tiers", "gold:20"), ("vnd_per_point", "0"), ("tier_downgrade", "sometimes")):
        refused = await admin.post("/dashboard/settings/loyalty", {**LOYALTY, field: value})
        assert refused.status_code == 422 and field in refused.text, field


async def test_courier_secrets_are_masked_and_a_blank_keeps_them(admin: Dashboard) -> None:
    form = {"ghn.token": "tok-abcdefgh-1234", "ghn.shop_id": "885", "ghn.webhook_secret": "", "ghtk.token": ""}
    assert (await admin.post("/dashboard/settings/couriers", form)).status_code == 303
    page = (await admin.get("/dashboard/settings")).text
    assert "••••1234" in page and "tok-abcdefgh-1234" not in page and 'value="885"' in page
    kept = await admin.post("/dashboard/settings/couriers", {**form, "ghn.token": "", "ghn.shop_id": "886"})
    assert kept.status_code == 303
    page = (await admin.get("/dashboard/settings")).text
    assert "••••1234" in page and 'value="886"' in page
    bad = await admin.post("/dashboard/settings/couriers", {**form, "ghn.shop_id": "abc"})
    assert bad.status_code == 422 and "shop_id" in bad.text


async def test_quiet_hours_and_cap_are_validated_and_kept(admin: Dashboard, settings: Settings) -> None:
    good = {"quiet_start": "21:30", "quiet_end": "08:00", "marketing_cap_per_day": "2"}
    assert (await admin.post("/dashboard/settings/notifications", good)).status_code == 303
    page = (await admin.get("/dashboard/settings")).text
    assert 'value="21:30"' in page and 'value="2"' in page
    # The policy gate reads them from its next transaction on (its own engine here: the app's pool lives on the
    # server's event loop, which is not the test's on every engine).
    engine = create_engine(settings)
    try:
        info = {NOTIFY_KEY: NotifySource(settings.notify)}
        async with async_sessionmaker(engine, info=info)() as session:
            await session.execute(text("SELECT 1"))
            rules = config_of(session).rules()
    finally:
        await engine.dispose()
    assert (rules.quiet_start, rules.quiet_end, rules.marketing_cap) == (
        datetime.time(21, 30),
        datetime.time(8, 0),
        2,
    )
    for field, value in (("quiet_start", "25:00"), ("marketing_cap_per_day", "-1")):
        refused = await admin.post("/dashboard/settings/notifications", {**good, field: value})
        assert refused.status_code == 422 and field in refused.text, field
