"""Scale run: the deployed stack (deploy/stack.sh: 2 API processes behind a load balancer, 2 Celery workers, beat, a
standalone sandbox courier, PostgreSQL and Redis) under an open-loop mixed workload, with faults injected at
scheduled times, then the invariants checked over the recorded history against the database and the courier's own
view; the same workload (without the process faults) on the embedded default for comparison.

It prints a table and writes bench/results/scale-<timestamp>.json, .md and .png. See bench/README.md.

    .venv/bin/python bench/scale_bench.py [--seconds 60] [--rate 10] [--faults kill_api,...] [--skip-embedded]
        [--keep-servers] [--free-ports] [--pg-url URL --redis-url URL] (--help for the rest)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from scale.cli import main  # the modules in bench/scale/ and bench/benchlib/ (this script's directory)
except ImportError:  # started with a Python that lacks the project's packages: use the project's virtualenv
    _VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _VENV_PYTHON.exists() and not os.environ.get("SCALE_BENCH_REEXEC"):
        os.environ["SCALE_BENCH_REEXEC"] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])
    raise

if __name__ == "__main__":
    sys.exit(main())
