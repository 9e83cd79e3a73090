"""What an amendment's request costs before its work: server CPU per request, layer by layer.

Issue 18 asks for 600 amendments/s on one server process, about 1.6 ms of server CPU per amendment. This bench
shows how much of that the request layer takes before any order work, with the same client (wrk, one connection
per thread, a POST with a JSON body and `Authorization: Bearer <key>`) in the same run:

* ``bare``        bench/bare_app.py: one Litestar route, no middleware, no database;
* ``stack``       the real app (bench/floor/probe_app.py imports orders_service.asgi:app), a probe route with
                  the whole middleware stack, API-key authentication, the strict JSON body check, the access line;
* ``session``     plus the request's database session (unused); ``deps`` plus the warehouse and discounts;
* ``transaction`` plus the write transaction and one `SELECT 1`, committed by CommitBeforeSending;
* ``read``        plus the amendment's own read of the order;
* ``amend``       the real POST /api/orders/{id}/amendments (bench/amend/amend.lua, If-Match from the ETag).

The floor below the app, the amendment's SQL through the driver alone, is amend_bench.py's raw-sql mode. For
each probe it prints requests/s, p50/p99, the server's CPU ms per request (from /proc), the increment over the
probe before and the ratio to bare; it writes bench/results/floor-<timestamp>.json and exits 1 if any probe
answers anything but 200. See bench/README.md.

    .venv/bin/python bench/floor_bench.py [--duration 5] [--warmup 1] [--connections 8] [--db sqlite|postgres]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from floor.cli import main  # the modules in bench/floor/, bench/amend/, bench/benchlib/ (this directory)
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("FLOOR_BENCH_REEXEC"):
        os.environ["FLOOR_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

if __name__ == "__main__":
    sys.exit(main())
