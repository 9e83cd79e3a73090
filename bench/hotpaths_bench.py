"""The hot paths (order create, ship, courier webhooks picked and delivered, the customer page, the dashboard
order list) on one server process, each beside the bare Litestar route measured with the same wrk in the same
run: requests/s, p50/p99, server CPU ms per request, and the ratio. See bench/README.md and bench/hotpaths/cli.py.

    .venv/bin/python bench/hotpaths_bench.py [--duration 5] [--concurrency 4] [--orders 200] [--db sqlite,postgres]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from hotpaths.cli import main  # the modules in bench/hotpaths/ and bench/benchlib/ (this script's directory)
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("HOTPATHS_BENCH_REEXEC"):
        os.environ["HOTPATHS_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

if __name__ == "__main__":
    sys.exit(main())
