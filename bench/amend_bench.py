"""Amendment throughput: the real HTTP endpoint vs a bare Litestar route vs the same SQL through the driver.

One run measures, for SQLite and for PostgreSQL:

* ``http``    POST /api/orders/{id}/amendments on the real server (``orders-service serve`` as a subprocess),
* ``bare``    the same requests against bench/bare_app.py (one Litestar route, no database), served alike,
* ``raw-sql`` the statements SQLAlchemy emits for one amendment, issued directly through aiosqlite / asyncpg,

at the same concurrency (the HTTP loads from wrk with amend/amend.lua, or httpx with --client httpx), each
worker owning distinct orders (so no 412s). The raw-SQL mode replays the SQL captured from the app; if it
cannot, the run fails (exit 1). It prints a table with amendments/s, p50/p99 latency, errors, CPU ms per
amendment and CPU use, the ratios HTTP/bare and HTTP/raw-SQL, and writes everything to
bench/results/amend-<timestamp>.json. See bench/README.md.

    .venv/bin/python bench/amend_bench.py [--duration 10] [--concurrency 16] [--orders 200] [--db sqlite,postgres]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from amend.cli import main  # the modules in bench/amend/ and bench/benchlib/ (this script's directory)
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("AMEND_BENCH_REEXEC"):
        os.environ["AMEND_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

if __name__ == "__main__":
    sys.exit(main())
