"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser), and the app on a port.

The browser is started once per module, not per session: Playwright's sync API keeps an event loop running in
this thread for as long as it lives, and every async test after it would fail to start its own. Each test gets
a phone-sized page that fails the test on any console error, and writes a screenshot per step to
build/test-artifacts/<test>/<step>.png.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.integration import databases as dbs
from tests.integration.processes import free_port

T = TypeVar("T")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (./dev test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Phone:
    """A page on a phone-sized screen that records console errors and saves a screenshot per step."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page, self.folder, self.errors = page, folder, []
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def shot(self, step: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.folder / f"{step}.png"), full_page=True)


@pytest.fixture
def phone(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Phone]:
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    screen = Phone(context.new_page(), folder)
    yield screen
    context.close()
    assert not screen.errors, screen.errors


@pytest.fixture
def settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    port = free_port()
    base = off_loop(dbs.sqlite_clone, sqlite_template, tmp_path / "data")
    return Settings.from_env(
        {
            "ORDERS_DATA_DIR": str(base.data_dir),
            "ORDERS_PORT": str(port),
            "ORDERS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            **dbs.TEST_ENV,
        }
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return off_loop(dbs.sqlite_template, tmp_path_factory.mktemp("sqlite-template"))


def off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run `function` in a thread: Playwright's sync API keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


class Served:
    """The app on a real port, served from a thread of its own (the browser and this test block on calls)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, name="served-app", daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start on port {self.settings.port}")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


async def _staff_key(settings: Settings) -> str:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            _, key = await create_key(session, "browser-test", Role.STAFF)
    finally:
        await engine.dispose()
    return key


@pytest.fixture
def staff(settings: Settings) -> Iterator[httpx.Client]:
    """A staff client of the app, served on a real port for the browser."""
    key = off_loop(lambda: asyncio.run(_staff_key(settings)))
    headers = {"Authorization": f"Bearer {key}"}
    with Served(settings), httpx.Client(base_url=settings.public_base_url, headers=headers, timeout=30) as http:
        yield http
