"""The short version of bench/import_bench.py, so that it cannot rot: generated files of both kinds imported, the
raw executemany baseline and the load-all run, in this process. No figure is judged here (no timing assertions)."""

from __future__ import annotations

import asyncio

import import_bench
import pytest


@pytest.mark.timeout(60)
def test_the_import_bench_runs_on_sqlite() -> None:
    result = asyncio.run(import_bench.run_db("sqlite", 40, None, separate=False))
    runs = {(run["kind"], run["mode"]): run for run in result["runs"]}
    for kind in ("products", "customers"):
        for mode in ("import", "raw", "load-all"):
            run = runs[(kind, mode)]
            assert run["rows"] == 40, run  # every generated row reached the database (or the list)
            assert run["failed"] == 0 and run["peak_rss_mb"] >= run["peak_rss_mb_before"] > 0
