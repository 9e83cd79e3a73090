"""Courier faults: the service against the GHN and GHTK fakes while one courier misbehaves (issue 16).

Each scenario (bench/courier_faults/scenarios.py) breaks one courier in one way for a while, on a fresh
database, and checks what must still hold; it prints what it checked and its figures (calls, retries, time to
recover), and writes bench/results/courier-faults-<timestamp>.json. The exit status is 1 if a check failed.

    .venv/bin/python bench/courier_fault_bench.py [--scenario hung-call] [--courier ghn,ghtk] [--db sqlite,postgres]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from courier_faults.cli import main  # bench/courier_faults/ and bench/benchlib/ (this script's directory)
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("FAULT_BENCH_REEXEC"):
        os.environ["FAULT_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

if __name__ == "__main__":
    sys.exit(main())
