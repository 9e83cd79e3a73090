"""The short version of bench/sync_bench.py, so that it cannot rot: a round runs end to end (ship, sync, raw
creates, amendments followed to the courier) and the figures it reports are there. No figure is judged here (no
timing assertions): the bench reports them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sync.cli import parse_args, run


@pytest.mark.timeout(120)
def test_the_sync_bench_runs_a_round(tmp_path: Path) -> None:
    argv = ["--orders", "4", "--raw-creates", "4", "--raw-concurrency", "1,2", "--amend-rate", "4"]
    argv += ["--amend-seconds", "1", "--bursts", "1", "--results-dir", str(tmp_path)]
    exit_code = asyncio.run(run(parse_args(argv)))

    (path,) = tmp_path.glob("sync-*.json")
    report = json.loads(path.read_text())
    assert report["failures"] == [] and exit_code == 0, report["failures"]
    text = json.dumps(report["result"])
    assert "error" not in report["result"], text[:2000]
