"""Dashboard sign-in: sessions, lockout, roles, CSRF on every form, and nothing for a visitor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import Dashboard, make_user, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """SQLite and PostgreSQL, not the Celery engine: what these pages say does not depend on where the relay runs."""
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "boss", "admin")


async def test_a_visitor_reaches_nothing_and_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/dashboard/orders", "/dashboard/orders?status=pending", "/dashboard/settings"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/dashboard/login?next=%2Fdashboard%2F")
    client.cookies.set("orders_session", "made-up")
    forged = await client.get("/dashboard/orders", follow_redirects=False)
    assert forged.status_code == 303


async def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    await make_user(settings, "lan", "staff")
    dashboard = Dashboard(client)
    response = await dashboard.login("lan")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/orders"
    cookie = response.headers["set-cookie"]
    assert "orders_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert (await dashboard.get("/dashboard/orders")).status_code == 200
    token = dashboard.jar["orders_session"]
    assert (await dashboard.post("/dashboard/logout")).status_code == 303
    dashboard.jar.set("orders_session", token)
    again = await dashboard.get("/dashboard/orders")
    assert again.status_code == 303  # the old cookie no longer opens anything


async def test_next_only_leads_inside_the_dashboard(settings: Settings, client: httpx.AsyncClient) -> None:
    await make_user(settings, "lan", "staff")
    dashboard = Dashboard(client)
    await dashboard.get("/dashboard/login")
    response = await dashboard.post(
        "/dashboard/login", {"username": "lan", "password": "correct horse battery", "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/dashboard/orders"


async def test_five_wrong_passwords_lock_the_account(settings: Settings, client: httpx.AsyncClient) -> None:
    await make_user(settings, "lan", "staff")
    dashboard = Dashboard(client)
    for _ in range(4):
        wrong = await dashboard.login("lan", "wrong password!")
        assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong.text
    locked = await dashboard.login("lan", "wrong password!")
    assert locked.status_code == 401 and "tạm khoá" in locked.text
    right = await dashboard.login("lan")  # even the right password waits out the lockout
    assert right.status_code == 401 and "tạm khoá" in right.text
    unknown = await dashboard.login("nobody")
    assert unknown.status_code == 401 and "Sai tên đăng nhập" in unknown.text


async def test_every_form_refuses_a_post_without_its_csrf_token(staff: Dashboard, api: Api) -> None:
    order = await api.create_order()
    base = f"/dashboard/orders/{order['id']}"
    forms = [
        "/dashboard/login",
        "/dashboard/logout",
        f"{base}/amend",
        f"{base}/confirm",
        f"{base}/cancel",
        f"{base}/ship",
        f"{base}/split",
        f"{base}/merge",
        f"{base}/review",
        f"/dashboard/queues/sync-failed/{order['id']}/retry",
        f"/dashboard/customers/{order['customer_id']}/merge",
        "/dashboard/settings/loyalty",
        "/dashboard/settings/couriers",
        "/dashboard/settings/notifications",
    ]
    for path in forms:
        refused = await staff.post(path, {"intent": "commit"}, csrf=False)
        assert refused.status_code == 403, path
        assert "CSRF" in refused.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]


async def test_staff_cannot_reach_admin_settings(staff: Dashboard, admin: Dashboard) -> None:
    for path in ("/dashboard/settings",):
        assert (await staff.get(path)).status_code == 403
        assert (await admin.get(path)).status_code == 200
    refused = await staff.post("/dashboard/settings/notifications", {"quiet_start": "21:00"})
    assert refused.status_code == 403
    page = await staff.get("/dashboard/orders")
    assert "/dashboard/settings" not in page.text  # not even offered
