"""Settings from the environment: defaults, and a wrong value named in one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from orders_service.cli import main
from orders_service.settings import Settings


def test_defaults_are_the_embedded_ones(tmp_path: object) -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    assert settings.is_sqlite and settings.relay == "embedded" and settings.split_fee == "quote"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORDERS_PORT", "abc", "ORDERS_PORT must be a number, not 'abc'"),
        ("ORDERS_RELAY_BACKOFF_S", "fast", "ORDERS_RELAY_BACKOFF_S must be a number"),
        ("ORDERS_SPLIT_FEE", "free", "ORDERS_SPLIT_FEE must be one of quote, same, shop, not 'free'"),
        ("ORDERS_SANDBOX", "maybe", "ORDERS_SANDBOX must be one of on, off, not 'maybe'"),
        ("ORDERS_TRUSTED_PROXIES", "10.0.0.0/8, proxy", "ORDERS_TRUSTED_PROXIES must list IP addresses or CIDRs"),
    ],
)
def test_a_wrong_value_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({name: value})
    result = CliRunner().invoke(main, ["db", "upgrade"], env={name: value})
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_the_sandbox_and_the_trusted_proxies(tmp_path: object) -> None:
    base = {"ORDERS_DATA_DIR": str(tmp_path)}
    default = Settings.from_env(base)
    assert default.sandbox is True and default.trusted_proxies == ()  # nobody's X-Forwarded-For is believed
    given = Settings.from_env({**base, "ORDERS_SANDBOX": "OFF", "ORDERS_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert given.sandbox is False and given.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
