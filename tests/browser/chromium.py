"""Debian's Chromium for the browser tests: where it is, how it starts here, where screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("ORDERS_TEST_CHROMIUM", "/usr/bin/chromium"))
# Headless as root, without the background calls this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
