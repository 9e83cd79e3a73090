"""The default public URL follows the address the server listens on; the shop's identity falls back field by field."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orders_service import cli
from orders_service.infra.settings import Settings
from orders_service.shop_settings.identity import identity_of


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"ORDERS_PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"ORDERS_HOST": "192.168.1.20", "ORDERS_PORT": "9000"}, "http://192.168.1.20:9000"),
        ({"ORDERS_HOST": "0.0.0.0", "ORDERS_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"ORDERS_HOST": "::", "ORDERS_PORT": "9000"}, "http://[::1]:9000"),
        ({"ORDERS_PORT": "9000", "ORDERS_PUBLIC_BASE_URL": "https://shop.example.vn/"}, "https://shop.example.vn"),
    ],
)
def test_the_public_url_follows_the_listening_address_unless_set(tmp_path: Path, env: dict[str, str], url: str) -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path), **env})
    assert (settings.public_base_url, settings.notify.public_base_url) == (url, url)


def test_serve_hands_its_host_and_port_to_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`serve --port N` listens on N, and the app it starts (which reads the environment) makes links with N."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name in ("ORDERS_HOST", "ORDERS_PORT", "ORDERS_PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ORDERS_HOST", "127.0.0.1")  # restored by monkeypatch after the test, with ORDERS_PORT below
    monkeypatch.setenv("ORDERS_PORT", "8000")
    started: dict[str, Any] = {}

    def run(app: str, **options: Any) -> None:
        started.update(options, public=Settings.from_env(os.environ).public_base_url)

    monkeypatch.setattr("uvicorn.run", run)
    result = CliRunner().invoke(cli.main, ["serve", "--port", str(port), "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert (started["port"], started["public"]) == (port, f"http://127.0.0.1:{port}")


def test_the_shop_an_admin_set_wins_field_by_field(tmp_path: Path) -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_SHOP_NAME": "Lan"})
    env = identity_of(settings, None)
    assert (env.name, env.phone_shown, env.public_url) == ("Lan", "028 3822 1234", "http://127.0.0.1:8000")
    assert env.address == "1 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh"
    saved = identity_of(settings, {"name": "Tiệm Váy", "phone": "+84912345678", "address": " ", "public_url": ""})
    assert (saved.name, saved.phone_shown, saved.address) == ("Tiệm Váy", "0912 345 678", env.address)
