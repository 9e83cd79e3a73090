"""The short version of bench/hotpaths_bench.py, so that it cannot rot: every hot path is prepared and answered
on SQLite (and PostgreSQL when the suite has it), each request once. No figure is judged here (no timing
assertions): the bench reports them."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from hotpaths.cli import PATHS, parse_args, run

from tests.integration.databases import PG_URL_ENV


@pytest.mark.timeout(300)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_the_hotpaths_bench_answers_every_path(tmp_path: Path) -> None:
    databases = "sqlite,postgres" if os.environ.get(PG_URL_ENV) else "sqlite"
    argv = ["--smoke", "--orders", "2", "--concurrency", "2", "--db", databases, "--results-dir", str(tmp_path)]
    if os.environ.get(PG_URL_ENV):
        argv += ["--pg-url", os.environ[PG_URL_ENV]]
    exit_code = asyncio.run(run(parse_args(argv)))

    (path,) = tmp_path.glob("hotpaths-*.json")
    report = json.loads(path.read_text())
    assert report["bare"]["ok"] > 0 and report["bare"]["failed"] == 0
    for db in databases.split(","):
        found = report["databases"][db]
        assert "error" not in found, found.get("error")
        assert set(found) == set(PATHS)
        for result in found.values():
            assert result["ok"] > 0 and result["failed"] == 0, result
            assert result["cpu_ms_per_request"] is not None and result["over_bare"] is not None
    assert exit_code == 0
