"""The dashboard in real headless Chromium (Debian's, never a downloaded build) against the app on a real port.

SQLite only: these tests check what staff see and click; the engines underneath are covered by the
integration suite on all three, and a browser run per engine would triple the slowest tests for nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.integration import databases as dbs
from tests.integration.api import order_payload
from tests.integration.celery_engine import served
from tests.integration.dashboard import PASSWORD, make_user
from tests.integration.processes import free_port

HAVE_CHROMIUM = CHROMIUM.exists()
WIDTHS = {1366: 800, 390: 844}  # a laptop, a phone


@pytest.fixture(scope="session")
def browser_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbs.sqlite_template(tmp_path_factory.mktemp("browser-template"))


@dataclass
class Site:
    """The served app, an API client with a staff key for setting up, and a signed-in browser page."""

    settings: Settings
    api: httpx.AsyncClient
    page: Page
    name: str
    errors: list[str] = field(default_factory=list)

    async def create_order(self, **overrides: Any) -> dict[str, Any]:
        response = await self.api.post("/api/orders", json=order_payload(**overrides))
        assert response.status_code == 201, response.text
        return response.json()

    async def order(self, order_id: str) -> dict[str, Any]:
        return (await self.api.get(f"/api/orders/{order_id}")).json()

    async def shoot(self, step: str) -> None:
        """The page as it is now, at laptop and phone widths; written as test artifacts."""
        folder = ARTIFACTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        for width, height in WIDTHS.items():
            await self.page.set_viewport_size({"width": width, "height": height})
            await self.page.screenshot(path=str(folder / f"{step}-{width}.png"), full_page=True)
        await self.page.set_viewport_size({"width": 1366, "height": 800})

    async def open(self, path: str) -> None:
        response = await self.page.goto(self.settings.public_base_url + path)
        assert response is not None and response.ok, path


async def _staff_key(settings: Settings) -> str:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            return (await create_key(session, "browser-tests", Role.STAFF))[1]
    finally:
        await engine.dispose()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (./dev test does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def site(
    request: pytest.FixtureRequest, browser_template: Path, tmp_path: Path, browser: Browser
) -> AsyncIterator[Site]:
    port = free_port()
    base = dbs.sqlite_clone(browser_template, tmp_path / "data")
    settings = Settings.from_env(
        {
            "ORDERS_DATA_DIR": str(base.data_dir),
            "ORDERS_PORT": str(port),
            "ORDERS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            **dbs.TEST_ENV,
        }
    )
    await make_user(settings, "lan", "staff")
    key = await _staff_key(settings)
    name = re.sub(r"[^\w-]", "_", request.node.name)
    async with (
        served(create_app(settings), port),
        httpx.AsyncClient(
            base_url=settings.public_base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as api,
    ):
        context = await browser.new_context(viewport={"width": 1366, "height": 800}, locale="vi-VN")
        page = await context.new_page()
        made = Site(settings, api, page, name)

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                made.errors.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda error: made.errors.append(str(error)))
        yield made
        await context.close()
    assert made.errors == [], made.errors  # no console errors on any page the test opened


async def sign_in(site: Site) -> None:
    await site.open("/dashboard/orders")  # sent to sign in first
    assert "/dashboard/login" in site.page.url
    await site.page.fill("input[name=username]", "lan")
    await site.page.fill("input[name=password]", PASSWORD)
    await site.page.click("button[type=submit]")
    await site.page.wait_for_url("**/dashboard/orders")
