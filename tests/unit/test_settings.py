"""Settings from the environment: defaults, and a wrong value named in one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from orders_service.cli import main
from orders_service.infra.settings import Settings


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


def test_the_timing_chain_holds_by_default(tmp_path: object) -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    assert settings.courier_timeout("ghn") < settings.lease_renew_s
    assert 2 * settings.lease_renew_s <= min(settings.relay_lease_s, settings.sync_lease_s)
    assert settings.courier_timeout_s < settings.relay_deadline_s < settings.relay_watchdog_s
    assert settings.relay_max_attempts == 15 and settings.courier_max_in_flight == 4


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # The old defaults: a 10 s courier call beside a lease renewed every 10 s (issue 16, item 1).
        (
            {"ORDERS_COURIER_TIMEOUT_S": "10"},
            "ORDERS_COURIER_TIMEOUT_S (10 s) must be above 0 and below ORDERS_LEASE_RENEW_S",
        ),
        (
            {"ORDERS_GHTK_TIMEOUT_S": "12"},
            "ORDERS_GHTK_TIMEOUT_S (12 s) must be above 0 and below ORDERS_LEASE_RENEW_S",
        ),
        ({"ORDERS_RELAY_LEASE_S": "15"}, "ORDERS_RELAY_LEASE_S (15 s) must be at least twice ORDERS_LEASE_RENEW_S"),
        ({"ORDERS_SYNC_LEASE_S": "10"}, "ORDERS_SYNC_LEASE_S (10 s) must be at least twice"),
        ({"ORDERS_RELAY_DEADLINE_S": "5"}, "ORDERS_RELAY_DEADLINE_S (5 s) must be above every courier timeout"),
        ({"ORDERS_RELAY_WATCHDOG_S": "60"}, "ORDERS_RELAY_WATCHDOG_S (60 s) must be above ORDERS_RELAY_DEADLINE_S"),
        ({"ORDERS_RELAY_MAX_ATTEMPTS": "0"}, "ORDERS_RELAY_MAX_ATTEMPTS must be a whole number of at least 1"),
        ({"ORDERS_COURIER_MAX_IN_FLIGHT": "0"}, "ORDERS_COURIER_MAX_IN_FLIGHT must be a whole number of at least 1"),
    ],
)
def test_timeouts_that_could_outlive_a_lease_stop_the_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
