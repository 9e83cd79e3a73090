"""Admin settings: loyalty rules in force at once, courier secrets never shown whole, quiet hours kept."""

from __future__ import annotations

import datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.app import create_app
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from orders_service.messaging.config import NOTIFY_KEY, NotifySource, config_of
from tests.integration.api import Api
from tests.integration.conftest import app_client
from tests.integration.dashboard import Dashboard, make_user, signed_in
from tests.integration.databases import TEST_ENV

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "boss", "admin")


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
    # A token goes in an HTTP header: one that no header can carry is refused here, not at each courier call.
    for field in ("ghn.token", "ghtk.partner_code"):
        refused = await admin.post("/dashboard/settings/couriers", {**form, field: "tokén có dấu"})
        assert refused.status_code == 422 and field.split(".")[1] in refused.text, field


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


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the page's values; the gate's are tested above
async def test_the_page_shows_the_quiet_hours_and_cap_in_force(settings: Settings) -> None:
    env = {"ORDERS_DATA_DIR": str(settings.data_dir), "ORDERS_QUIET_HOURS": "08:30-21:00", "ORDERS_MARKETING_CAP": "5"}
    configured = Settings.from_env({**env, **TEST_ENV})
    await make_user(configured, "boss", "admin")
    async with app_client(create_app(configured), configured) as client:
        admin = Dashboard(client)
        assert (await admin.login("boss")).status_code == 303
        page = (await admin.get("/dashboard/settings")).text
        shown = ('name="quiet_start" type="time" value="21:00"', 'name="quiet_end" type="time" value="08:30"')
        assert all(field in page for field in shown), page
        assert 'name="marketing_cap_per_day" type="number" min="0" max="50" value="5"' in page
        saved = {"quiet_start": "22:30", "quiet_end": "08:30", "marketing_cap_per_day": "5"}
        assert (await admin.post("/dashboard/settings/notifications", saved)).status_code == 303
        page = (await admin.get("/dashboard/settings")).text
        assert 'name="quiet_start" type="time" value="22:30"' in page and 'value="21:00"' not in page
