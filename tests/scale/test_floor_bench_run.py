"""The short version of bench/floor_bench.py, so that it cannot rot: every probe route of bench/floor/probe_app.py
answers 200 under wrk, beside the bare route and the real amendment, and the JSON is written. No figure is judged
here (no timing assertions): the bench reports them."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from amend.load import LoadResult
from floor.cli import ORDER, parse_args, rows, run

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="floor_bench.py loads with wrk (apt-get install wrk)"
)


@pytest.mark.timeout(120)
def test_the_floor_bench_measures_every_probe_on_sqlite(tmp_path: Path) -> None:
    argv = ["--duration", "1", "--warmup", "0", "--connections", "2", "--results-dir", str(tmp_path)]
    exit_code = asyncio.run(run(parse_args(argv)))

    (path,) = tmp_path.glob("floor-*.json")
    report = json.loads(path.read_text())
    assert [row["probe"] for row in report["rows"]] == list(ORDER)
    assert ORDER == ("bare", "stack", "session", "deps", "transaction", "read", "amend")
    for row in report["rows"]:
        assert row["requests_per_s"] > 0 and row["error_count"] == 0, row
        assert row["cpu_ms_per_request"] is not None and row["cpu_over_bare"] is not None, row
    assert report["failed"] is False
    assert exit_code == 0


def test_each_row_gives_the_increment_over_the_row_before_and_the_ratio_to_bare() -> None:
    def result(probe: str, ok: int, server_cpu_s: float) -> LoadResult:
        return LoadResult(probe, "sqlite", ok, 1.0, [], Counter(), [], {"server_cpu_s": server_cpu_s})

    table = rows([result("bare", 4000, 0.8), result("stack", 2000, 1.0), result("session", 1000, 0.8)])

    assert [(r["probe"], r["cpu_ms_per_request"]) for r in table] == [("bare", 0.2), ("stack", 0.5), ("session", 0.8)]
    assert [r["cpu_ms_over_previous"] for r in table] == [None, 0.3, 0.3]
    assert [r["cpu_over_bare"] for r in table] == [1.0, 2.5, 4.0]
    assert [r["requests_per_s"] for r in table] == [4000.0, 2000.0, 1000.0]
