"""The short versions of bench/segment_bench.py and bench/profile_bench.py, so that they cannot rot: each runs
end to end on a few rows (a served app, the bulk insert, customer_stats rebuilt, the endpoints and their raw-SQL
baselines). No figure is judged here (no timing assertions): the benches report them."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import profile_bench
import pytest
import segment_bench

from tests.integration.databases import PG_URL_ENV


@pytest.mark.timeout(120)
def test_the_segment_bench_runs_and_its_baseline_counts_what_the_endpoint_counts(tmp_path: Path) -> None:
    pg_url = os.environ.get(PG_URL_ENV)
    if not pg_url:
        pytest.skip(f"PostgreSQL not configured ({PG_URL_ENV})")
    args = argparse.Namespace(customers=300, requests=1, results_dir=tmp_path)
    result = asyncio.run(segment_bench.run(args, pg_url))
    assert result["customers"] == 300 and result["orders"] > 0
    assert sum(result["segments"].values()) > 0
    assert result["raw_counts"] == result["segments"]  # the baseline's SQL is the endpoint's rules, by hand
    assert result["raw_page_ids"] == result["page_ids"]
    for key in ("list_segments_ms", "segment_page_ms", "raw_counts_ms", "raw_page_ms", "raw_old_stats_ms"):
        assert result[key]["count"] >= 1, key


@pytest.mark.timeout(120)
def test_the_profile_bench_runs_on_sqlite(tmp_path: Path) -> None:
    args = argparse.Namespace(small=2, large=30, requests=2, results_dir=tmp_path)
    result = asyncio.run(profile_bench.run_db("sqlite", args, None))
    for label, orders in (("small", 2), ("large", 30)):
        assert result[label]["orders"] == orders  # read_times checks the profile counts them
        assert "kept stats (read now)" in result[label]["statements_ms"]
    assert result["ratio_p50"] > 0
