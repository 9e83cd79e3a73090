"""Rate limits on edit links, per client address and per token (low limits here, so a few requests reach them).

On the Celery engine the windows are in Redis, shared by the session's tests: each test comes from its own
client address (X-Forwarded-For, believed there because that engine trusts 127.0.0.1 as its proxy) and uses its
own tokens.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import Api
from tests.integration.conftest import ENGINES, engine_settings
from tests.integration.links import issue_link, page, public, token_of

pytestmark = pytest.mark.anyio


@pytest.fixture(params=ENGINES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for chosen in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(chosen, link_client_limit=12, link_token_limit=5, link_rate_window_s=60)


def client_address() -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"}


async def test_guessing_tokens_hits_the_client_limit(api: Api) -> None:
    me = client_address()
    answers = [(await public(api, secrets.token_urlsafe(32), headers=me)).status_code for _ in range(14)]
    assert answers[:12] == [404] * 12 and answers[12:] == [429, 429]
    refused = await page(api, secrets.token_urlsafe(32), headers=me)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["referrer-policy"] == "no-referrer"


async def test_one_token_is_limited_on_its_own(api: Api) -> None:
    token = token_of(await issue_link(api, await api.create_order()))
    me = client_address()
    answers = [(await public(api, token, headers=me)).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    busy = await public(api, token, headers=me)
    assert busy.json()["type"].endswith("/rate-limited") and int(busy.headers["retry-after"]) >= 1
