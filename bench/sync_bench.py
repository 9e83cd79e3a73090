"""Courier sync: how fast the outbox relay creates courier parcels, and how far behind amendments it runs.

One run starts ``orders-service serve`` (a subprocess, embedded default: the sandbox courier mounted at
/sandbox-courier and the outbox relay in the API process) on a fresh SQLite file, or a fresh PostgreSQL database
with ``--db postgres``, and measures, per courier delay (``--delay-ms``, set through the sandbox's /_faults):

1. **creates**: K orders are created and confirmed (setup), then shipped at once; the time until every shipment
   is synced gives courier creates/s through the whole path (ship -> outbox -> relay -> adapter -> sandbox API in
   process). The baseline is the same create request (the body the adapter sends) posted with httpx straight to
   /sandbox-courier/shipments on the same server, at concurrency 1 (what the relay has) and 8.
2. **lag**: an open-loop load of ``set_recipient`` amendments (a new name each) on the shipped orders; for each
   accepted amendment, the time from its 200 response until the courier holds that name (the courier's own
   ``updated_at``), the number of courier update calls per amendment (coalescing), and the errors.

It prints two tables and writes bench/results/sync-<timestamp>.json. See bench/README.md.

    .venv/bin/python bench/sync_bench.py [--orders 200] [--amend-rate 20] [--amend-seconds 20] [--delay-ms 0,100]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from sync.cli import main  # the modules in bench/sync/ and bench/benchlib/ (this script's directory)
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("SYNC_BENCH_REEXEC"):
        os.environ["SYNC_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

if __name__ == "__main__":
    sys.exit(main())
