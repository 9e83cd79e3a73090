"""The short version of the courier fault run (bench/courier_fault_bench.py): every scenario once, at its smallest
size, against the GHN and GHTK fakes on SQLite.

Issue 16 items 1 (a hung or slow courier call), 2 (cancel and merge after an unseen pickup), 4 (lost webhooks,
reconciliation) and 5 (GHN's recipient limit while the COD changes). Each run must hold every check the bench
makes; the figures (calls, retries, times) are the bench's to report, not this test's to judge.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from courier_faults.cli import parse, run
from courier_faults.scenarios import SCENARIOS

# A small run that still shows each fault: a 1 s call timeout, a 5 s fault, two orders (item 5: its three rounds,
# one past GHN's limit). The fault lasts long enough that the other orders sync within it on a loaded CI machine
# (with 2 s, one did not once). About 5-15 s a run.
SMALL = ["--db", "sqlite", "--runs", "1", "--timeout-s", "1", "--fault-s", "5", "--others", "2", "--orders", "2"]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_courier_fault_scenario_holds_every_check(scenario: str, tmp_path: Path) -> None:
    # run(), not main(): main() sets the process's log levels, which other tests in this worker read.
    exit_code = asyncio.run(run(parse(["--scenario", scenario, *SMALL, "--results-dir", str(tmp_path)])))

    (report,) = tmp_path.glob("courier-faults-*.json")
    runs = json.loads(report.read_text())["runs"]
    assert [r["courier"] for r in runs] == list(SCENARIOS[scenario].couriers)  # nothing skipped
    failed = [f"{r['courier']}: {c['what']} ({c['detail']})" for r in runs for c in r["checks"] if not c["held"]]
    assert not failed, failed
    assert all(r["checks"] for r in runs)
    assert exit_code == 0
