"""Viettel Post and Ahamove accounts from the environment: what each setting becomes in the adapter, what is
refused at start, and that an unset account is no courier."""

from __future__ import annotations

from pathlib import Path

import pytest

from couriers.ahamove import AhamoveCourier
from couriers.viettelpost import VtpCourier
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import CourierRegistry
from orders_service.shop_settings.accounts import CourierAccounts
from orders_service.shop_settings.services import ACCOUNTS


def registry(tmp_path: Path, **env: str) -> CourierRegistry:
    made = CourierRegistry({})
    CourierAccounts(Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path), **env}), made)
    return made


def test_unset_accounts_are_no_couriers(tmp_path: Path) -> None:
    assert registry(tmp_path).names() == []
    assert ACCOUNTS == ("ghn", "ghtk")  # the dashboard's form edits these two; the others are environment only


def test_viettelpost_from_the_environment(tmp_path: Path) -> None:
    made = registry(
        tmp_path,
        ORDERS_VIETTELPOST_USERNAME="shop@example.vn",
        ORDERS_VIETTELPOST_PASSWORD="pw",
        ORDERS_VIETTELPOST_WEBHOOK_SECRET="agreed",
        ORDERS_VIETTELPOST_SENDER_UNITS="2, 43, 700",
        ORDERS_VIETTELPOST_GROUPADDRESS_ID="5818802",
        ORDERS_VIETTELPOST_SERVICE="LCOD",
        ORDERS_VIETTELPOST_TIMEOUT_S="3",
    )
    courier = made.get("viettelpost")
    assert isinstance(courier, VtpCourier)
    c = courier.config
    assert (c.token, c.username, c.password, c.webhook_secret) == ("", "shop@example.vn", "pw", "agreed")
    assert (c.sender_units, c.groupaddress_id, c.cus_id, c.service, c.timeout_s) == (
        (2, 43, 700),
        5818802,
        0,
        "LCOD",
        3,
    )
    assert c.base_url == "https://partner.viettelpost.vn"


def test_ahamove_from_the_environment(tmp_path: Path) -> None:
    made = registry(
        tmp_path,
        ORDERS_AHAMOVE_TOKEN="aha",
        ORDERS_AHAMOVE_WEBHOOK_SECRET="user:pw",
        ORDERS_AHAMOVE_WEBHOOK_AUTH="basic",
        ORDERS_AHAMOVE_SERVICES="79:VNM-PARTNER-SGN",
    )
    courier = made.get("ahamove")
    assert isinstance(courier, AhamoveCourier)
    c = courier.config
    assert (c.token, c.webhook_auth, c.services, c.cancel_code) == ("aha", "basic", {79: "VNM-PARTNER-SGN"}, "OTHER")
    assert (c.base_url, c.v1_base_url) == ("https://partner-api.ahamove.com", "https://api.ahamove.com")


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ORDERS_VIETTELPOST_TOKEN": "t", "ORDERS_VIETTELPOST_SENDER_UNITS": "2,43"}, "SENDER_UNITS must be 3"),
        ({"ORDERS_VIETTELPOST_TOKEN": "t", "ORDERS_VIETTELPOST_CUS_ID": "x"}, "CUS_ID must be 1"),
        ({"ORDERS_AHAMOVE_TOKEN": "t", "ORDERS_AHAMOVE_SERVICES": "SGN-BIKE"}, "province:service_id"),
    ],
)
def test_values_an_adapter_cannot_use_stop_the_start(tmp_path: Path, env: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        registry(tmp_path, **env)


def test_a_webhook_auth_method_not_offered_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="webhook_auth must be one of"):
        registry(tmp_path, ORDERS_AHAMOVE_TOKEN="t", ORDERS_AHAMOVE_WEBHOOK_AUTH="hmac")
