"""The courier accounts in force in one process: the environment's, saved ones over them, re-read every TTL
seconds, a bad saved account never replacing a working one, and no connection pool left behind."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from couriers.ghn.adapter import GhnCourier
from couriers.ghtk.adapter import GhtkCourier
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import CourierNotConfigured, CourierRegistry
from orders_service.shop_settings.accounts import CourierAccounts

pytestmark = pytest.mark.anyio

GHN_BASE = "http://ghn.test/shiip/public-api"
ENV = {
    "ORDERS_GHN_TOKEN": "env-token",
    "ORDERS_GHN_SHOP_ID": "100",
    "ORDERS_GHN_WEBHOOK_SECRET": "env-secret",
    "ORDERS_GHN_BASE_URL": GHN_BASE,
}
SAVED_GHTK = {"token": "ghtk-token", "partner_code": "S1", "webhook_secret": "ghtk-hook"}


class Gateway:
    """Where the registry's pools send calls: answers a GHN order detail, and may hold a call back."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.hold = anyio.Event()
        self.hold.set()
        self.reached = anyio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(request.headers["token"])
        self.reached.set()
        await self.hold.wait()
        data = {"order_code": "GF1", "status": "ready_to_pick", "client_order_code": "C1"}
        return httpx.Response(200, json={"code": 200, "message": "Success", "data": data})


def make(tmp_path: Path, env: dict[str, str] | None = None, transport: Any = None) -> CourierAccounts:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path), **(ENV if env is None else env)})
    return CourierAccounts(settings, CourierRegistry({}, transport))


def ghn(source: CourierAccounts) -> GhnCourier:
    courier = source.registry.get("ghn")
    assert isinstance(courier, GhnCourier)
    return courier


class Connection:
    """Stands for the transaction's connection: counts the reads of the saved row."""

    def __init__(self, saved: Any) -> None:
        self.saved, self.reads = saved, 0

    def execute(self, _: Any) -> Connection:
        self.reads += 1
        return self

    def scalar(self) -> Any:
        return self.saved


def test_the_environment_accounts_until_something_is_saved(tmp_path: Path) -> None:
    source = make(tmp_path)
    config = ghn(source).config
    assert (config.token, config.shop_id, config.webhook_secret, config.base_url) == (
        "env-token",
        100,
        "env-secret",
        GHN_BASE,
    )
    assert source.registry.names() == ["ghn"]  # no GHTK token in the environment: not configured
    with pytest.raises(CourierNotConfigured):
        source.registry.get("ghtk")


def test_saved_values_override_the_environment_and_blanks_keep_it(tmp_path: Path) -> None:
    source = make(tmp_path)
    source.apply({"ghn": {"token": "saved-token", "shop_id": "", "webhook_secret": ""}, "ghtk": SAVED_GHTK})
    config = ghn(source).config
    assert (config.token, config.shop_id, config.webhook_secret, config.base_url) == (
        "saved-token",
        100,
        "env-secret",
        GHN_BASE,
    )
    ghtk = source.registry.get("ghtk")
    assert isinstance(ghtk, GhtkCourier) and ghtk.config.partner_code == "S1"
    source.apply(None)  # the saved row is gone: the environment's again, and GHTK is no longer configured
    assert ghn(source).config.token == "env-token" and source.registry.names() == ["ghn"]


def test_an_unchanged_account_keeps_its_adapter(tmp_path: Path) -> None:
    source = make(tmp_path)
    saved = {"ghn": {"token": "saved-token"}}
    source.apply(saved)
    first = ghn(source)
    source.apply(saved)
    assert ghn(source) is first


@pytest.mark.parametrize(
    "saved",
    [
        {"ghn": {"token": "tokén-with-accent"}},  # no HTTP header can carry it
        {"ghn": {"token": "ok", "shop_id": "12a"}},
        {"ghn": {"token": "ok", "shop_id": 7}},
        {"ghn": "not an account"},
        ["not", "an", "object"],
    ],
)
def test_a_bad_saved_account_keeps_the_one_in_force_and_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, saved: Any
) -> None:
    source = make(tmp_path)
    source.apply({"ghn": {"token": "good-token"}})
    before = ghn(source)
    with caplog.at_level(logging.ERROR, logger="orders_service.shop_settings.accounts"):
        source.apply(saved)
        source.apply(saved)  # the next TTL reads the same row: not logged again
    assert ghn(source) is before
    refused = [r for r in caplog.records if "ghn account cannot be used" in r.getMessage()]
    assert len(refused) == 1
    assert "good-token" not in caplog.text and "tokén" not in caplog.text  # no secret in the log


def test_a_bad_account_of_one_courier_does_not_stop_the_other(tmp_path: Path) -> None:
    source = make(tmp_path)
    source.apply({"ghn": {"token": "ok", "shop_id": "x"}, "ghtk": SAVED_GHTK})
    assert ghn(source).config.token == "env-token"
    assert source.registry.names() == ["ghn", "ghtk"]


def test_the_row_is_read_at_most_once_per_ttl_and_at_once_when_expired(tmp_path: Path) -> None:
    source = make(tmp_path)
    connection = Connection({"ghn": {"token": "first"}})
    source.refresh(connection)  # type: ignore[arg-type]
    connection.saved = {"ghn": {"token": "second"}}
    source.refresh(connection)  # type: ignore[arg-type]
    assert connection.reads == 1 and ghn(source).config.token == "first"
    source.expire()  # the process that saved: its next transaction reads it
    source.refresh(connection)  # type: ignore[arg-type]
    assert connection.reads == 2 and ghn(source).config.token == "second"
    source.TTL = 0.0  # any other process: once the TTL has passed
    connection.saved = {"ghn": {"token": "third"}}
    source.refresh(connection)  # type: ignore[arg-type]
    assert connection.reads == 3 and ghn(source).config.token == "third"


async def test_a_call_in_flight_keeps_its_adapter_and_no_pool_is_left_open(tmp_path: Path) -> None:
    gateway = Gateway()
    source = make(tmp_path, transport=httpx.MockTransport(gateway))
    old = ghn(source)
    pool = source.registry.client("ghn")
    gateway.hold = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(old.detail, "GF1")
        await gateway.reached.wait()
        for n in range(20):  # an admin saving again and again: still one pool for GHN
            source.apply({"ghn": {"token": f"token-{n}"}})
        gateway.hold.set()  # the call made with the old account goes through on the pool it borrowed
    new = ghn(source)
    assert new is not old and await new.detail("GF1")
    assert gateway.tokens == ["env-token", "token-19"]
    assert old._client is new._client is pool and not pool.is_closed
    await source.registry.aclose()
    assert pool.is_closed
