"""Helpers for edit-link tests: issue a link as staff, and use it as the customer would (JSON or the page)."""

from __future__ import annotations

import datetime
import re
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import EditLink
from orders_service.infra.settings import Settings
from tests.integration.api import Api

DRESS_L = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "L", "color": "red", "unit_price": 480000, "quantity": 1}


async def order_with_sizes(api: Api, **overrides: Any) -> dict[str, Any]:
    """An order of DRESS-01 in M, after another order sold it in L: the shop offers both sizes."""
    await api.create_order(lines=[DRESS_L])
    return await api.create_order(**overrides)


async def issue_link(api: Api, order: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await api.request("POST", f"/api/orders/{order['id']}/edit-link", json=body or None)
    assert response.status_code == 201, response.text
    return response.json()


def token_of(link: dict[str, Any]) -> str:
    return str(link["url"]).rsplit("/o/", 1)[1]


async def public(api: Api, token: str, suffix: str = "", method: str = "GET", **kw: Any) -> httpx.Response:
    return await api.request(method, f"/api/public/orders/{token}{suffix}", key=None, **kw)


async def page(api: Api, token: str, suffix: str = "", method: str = "GET", **kw: Any) -> httpx.Response:
    return await api.request(method, f"/o/{token}{suffix}", key=None, **kw)


def csrf_field(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


async def expire_links(settings: Settings, order_id: str) -> None:
    """Move the order's links past their time, as the clock would (own engine: the app's pool is elsewhere)."""
    engine = create_engine(settings, poolclass=NullPool)
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(update(EditLink).where(EditLink.order_id == UUID(order_id)).values(expires_at=past))
    finally:
        await engine.dispose()
