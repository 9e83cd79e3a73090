"""The served app's start-up objects are out of the cyclic collector's sight (gc.freeze), so a full collection
during requests scans what requests made, not the whole app (bench/README.md: 115-150 ms stalls before, 11 ms
after). In a fresh interpreter, as a server process imports it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_importing_the_served_app_freezes_what_it_built(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    env["ORDERS_DATA_DIR"] = str(tmp_path)
    code = "import gc, orders_service.asgi; print(gc.get_freeze_count())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) > 100_000, done.stdout
