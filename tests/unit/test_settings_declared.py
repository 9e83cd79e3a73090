"""The settings agree with their declarations: defaults, the couriers' live hosts, the deploy files' values."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from couriers.base import Address, Shop
from couriers.ghn.adapter import GhnConfig
from couriers.ghtk.adapter import GhtkConfig
from notifications.providers.sms_gateway import SmsGatewayConfig
from notifications.providers.smtp import SmtpConfig
from notifications.providers.zns import ZnsConfig
from orders_service.infra.settings import DECLARED, Settings
from orders_service.shipping.registry import build_courier

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = Address(
    line="1 Lê Lợi", ward_code="26734", province_code="79", ward_name="Bến Thành", province_name="Hồ Chí Minh"
)
SHOP = Shop(name="Lan", phone="+84901234567", address=ADDRESS)
GHN_LIVE = "https://online-gateway.ghn.vn/shiip/public-api"  # shared/reference/couriers.md §1.1
GHTK_LIVE = "https://services.giaohangtietkiem.vn"  # §2.1


def test_the_struct_defaults_are_the_declared_ones(tmp_path: Path) -> None:
    read = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    built = Settings(data_dir=read.data_dir, database_url=read.database_url, log_format=read.log_format)
    assert msgspec.structs.asdict(read) == msgspec.structs.asdict(built)


def test_the_couriers_default_to_their_live_hosts() -> None:
    ghn = GhnConfig(token="t", shop_id=1, shop=SHOP, webhook_secret="s")
    ghtk = GhtkConfig(token="t", partner_code="p", shop=SHOP, webhook_secret="s")
    assert (ghn.base_url, ghtk.base_url) == (GHN_LIVE, GHTK_LIVE)
    assert (DECLARED["ORDERS_GHN_BASE_URL"].default, DECLARED["ORDERS_GHTK_BASE_URL"].default) == (GHN_LIVE, GHTK_LIVE)


def test_an_account_from_the_environment_calls_the_live_host_unless_told(tmp_path: Path) -> None:
    env = {"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_GHN_TOKEN": "t", "ORDERS_GHTK_TOKEN": "t"}
    settings = Settings.from_env(env)
    ghn, ghtk = (build_courier(name, settings.couriers[name], SHOP) for name in ("ghn", "ghtk"))
    assert (ghn.config.base_url, ghtk.config.base_url) == (GHN_LIVE, GHTK_LIVE)  # type: ignore[union-attr]
    test_host = Settings.from_env({**env, "ORDERS_GHTK_BASE_URL": "https://services-staging.ghtklab.com"})
    staging = build_courier("ghtk", test_host.couriers["ghtk"], SHOP)
    assert staging.config.base_url == "https://services-staging.ghtklab.com"  # type: ignore[union-attr]


def test_the_providers_defaults_are_the_declared_ones() -> None:
    sms = SmsGatewayConfig(api_key="k", secret_key="s", brandname="b")
    zns = ZnsConfig(access_token="t")
    smtp = SmtpConfig(host="h", sender="f@example.vn")
    declared = {name: DECLARED[name].default for name in DECLARED}
    assert (declared["ORDERS_SMS_URL"], float(declared["ORDERS_SMS_TIMEOUT_S"])) == (sms.url, sms.timeout_s)
    assert (declared["ORDERS_ZNS_URL"], float(declared["ORDERS_ZNS_TIMEOUT_S"])) == (zns.url, zns.timeout_s)
    assert (int(declared["ORDERS_SMTP_PORT"]), float(declared["ORDERS_SMTP_TIMEOUT_S"])) == (smtp.port, smtp.timeout_s)


def test_only_declared_courier_keys_are_taken(tmp_path: Path) -> None:
    env = {"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_GHN_TOKEN": "t", "ORDERS_GHN_TOKN": "typo"}
    assert Settings.from_env(env).couriers == {"ghn": {"token": "t"}}


def test_a_relay_that_is_not_one_of_the_engines_is_refused() -> None:
    """It used to be taken, and the API then ran no relay at all: nothing would reach the couriers."""
    with pytest.raises(ValueError, match="ORDERS_RELAY must be one of embedded, celery, off, not 'celry'"):
        Settings.from_env({"ORDERS_RELAY": "celry"})


ASSIGNMENT = re.compile(r"^\s*(ORDERS_[A-Z0-9_]+|DATABASE_URL)\s*[=:]\s*\"?([^\"\n#$]*)", re.MULTILINE)


@pytest.mark.parametrize(
    "path", ["deploy/env.example", "deploy/compose.yaml", "deploy/k8s/configmap.yaml", "deploy/k8s/secret.example.yaml"]
)
def test_the_deploy_files_set_declared_variables_to_values_they_accept(path: str) -> None:
    found = ASSIGNMENT.findall((ROOT / path).read_text(encoding="utf-8"))
    assert found
    for name, value in found:
        var = DECLARED[name]  # a KeyError names a variable the service does not read
        if var.choices and value.strip():
            assert value.strip().lower() in var.choices, (path, name, value)


def test_env_example_names_the_reference() -> None:
    assert "docs/configuration.md" in (ROOT / "deploy/env.example").read_text(encoding="utf-8")
