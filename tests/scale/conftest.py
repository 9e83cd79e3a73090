"""The scale bench's modules (bench/scale, bench/benchlib) import each other as top-level packages, the way
bench/scale_bench.py runs them: put bench/ on the path, as that script's own directory is."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
