"""The API documentation at /schema works with no network: its pages load nothing from outside the service.

The UI used to come from a CDN and was blank offline (issue 17). The browser test opens each page in headless
Chromium with every request to another host aborted and expects the operations drawn and no request failed;
the page test reads every HTML page the app serves under /schema and expects every script, style and icon it
names to be the service's own, and there.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from playwright.sync_api import expect

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from tests.browser.chromium import ARTIFACTS
from tests.browser.conftest import Served

AMEND = "/api/orders/{order_id}/amendments"
DOCS_PAGES = ["/schema", "/schema/swagger"]
# What an HTML page makes the browser fetch by itself, and the attribute that says from where.
FETCHED = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_the_api_docs_render_with_every_other_host_cut_off(chromium: Any, settings: Settings, path: str) -> None:
    origin = settings.public_base_url
    outside: list[str] = []
    failed: list[str] = []

    def only_the_service(route: Any) -> None:
        if _origin(route.request.url) == origin:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    context = chromium.new_context(viewport={"width": 1366, "height": 800})
    context.route("**/*", only_the_service)
    page = context.new_page()
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    page.on("response", lambda response: response.ok or failed.append(f"{response.url}: {response.status}"))
    page.on("console", lambda message: message.type == "error" and failed.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: failed.append(f"page error: {error}"))
    try:
        with Served(settings):
            answer = page.goto(origin + path)
            assert answer is not None and answer.ok, path
            # Swagger UI draws each operation with its path; the tags are open on arrival.
            expect(page.locator(f'.opblock-summary-path[data-path="{AMEND}"]').first).to_be_visible(timeout=20_000)
            expect(page.locator(".opblock-summary-path").nth(20)).to_be_attached()
            folder = ARTIFACTS / f"openapi-ui{path.replace('/', '-')}"
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "rendered.png"))
    finally:
        context.close()
    assert outside == [], f"the page asked hosts other than the service: {outside}"
    assert failed == [], failed


class _Assets(HTMLParser):
    """The URLs an HTML page makes the browser fetch by itself: scripts, stylesheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        value = dict(attrs).get(FETCHED.get(tag, ""))
        if value:
            self.urls.append(value)


def test_every_docs_page_names_only_the_services_own_assets_and_they_are_served(settings: Settings) -> None:
    app = create_app(settings)
    pages = sorted(
        route.path.replace("{path:str}", "no-such-page")
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/schema") and "GET" in route.methods
    )
    assert {"/schema", "/schema/swagger", "/schema/openapi.json"} <= set(pages), pages
    with TestClient(app) as client:
        seen: set[str] = set()
        for page in pages:
            answer = client.get(page)
            if not answer.headers.get("content-type", "").startswith("text/html"):
                continue
            parser = _Assets()
            parser.feed(answer.text)
            for url in parser.urls:
                parts = urlsplit(url)
                assert not parts.scheme and not parts.netloc, f"{page} loads {url} from outside the service"
                seen.add(parts.path)
        assert seen, "the docs pages name no script or style: nothing was checked"
        for asset in sorted(seen):
            assert client.get(asset).status_code == 200, f"{asset} is named by a docs page but not served"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
