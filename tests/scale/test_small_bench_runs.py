"""The short versions of the benches that had none (campaign, list endpoints, naming a bad body's field), so that
they cannot rot: each runs as its command line does, on tiny inputs, and must finish and report every figure. No
figure is judged here (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.timeout(150)
def test_the_campaign_bench_reaches_every_member_while_amendments_go_on(tmp_path: Path) -> None:
    out = run(
        "campaign_bench.py", "--sizes", "20", "--db", "sqlite", "--idle-amendments", "2", "--dry-runs", "1",
        "--results-dir", str(tmp_path),
    )  # fmt: skip
    assert "wrote " in out, out
    (report,) = tmp_path.glob("campaign-*.json")
    (result,) = json.loads(report.read_text())["runs"]
    assert result["customers"] == 20 and result["dry_run"]["status"] == 200, result
    assert result["messages"] == {"members_reached": 20, "most_to_one_member": 1}, result["messages"]
    # Whether each amendment's courier sync was handled by then is a figure of the relay's pace (one was not yet, in
    # a CI run with the machine full), not a check.
    assert result["send"]["all_sent"] and "not_handled" in result["send"]["order_sync_lag"], result["send"]
    assert result["amend_errors"] == {} and result["server_tracebacks"] == 0, result


@pytest.mark.timeout(150)
def test_the_list_bench_times_every_list_endpoint(tmp_path: Path) -> None:
    out = run("list_bench.py", "--db-dir", str(tmp_path / "db"), "--orders", "30", "--rounds", "2")
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines() if " min " in line}
    for endpoint in ("orders", "orders deep page", "customers by name", "tier history", "notifications", "campaigns"):
        assert endpoint in lines, out


@pytest.mark.timeout(60)
def test_the_invalid_body_bench_names_the_last_entry() -> None:
    out = run("invalid_body_bench.py", "--entries", "1000", "--runs", "1")
    assert "decode" in out and "naming versions" in out, out
