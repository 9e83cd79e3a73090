"""The short run of bench/quote_bench.py: 20 orders quoted by the sandbox, GHN and GHTK, then again with GHTK
late; that every order got every courier's answer in both rounds. The figures are the bench's to report."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import quote_bench


def test_quote_bench_smoke_quotes_every_order_in_both_rounds(tmp_path: Path) -> None:
    args = quote_bench.parse(["--smoke", "--results", str(tmp_path / "quotes.json")])
    report = asyncio.run(quote_bench.run(args))
    for name in ("baseline", "ghtk_slow"):
        assert report[name]["orders"] == 20
        assert report[name]["unavailable"] == {}  # GHTK 20 ms late is well within the 10 s bound
        assert report[name]["p99_ms"] >= report[name]["p50_ms"] > 0


def test_a_courier_past_the_bound_is_counted_unavailable(tmp_path: Path) -> None:
    # GHTK a minute late against a 0.5 s bound: it never makes it, however loaded the machine.
    args = quote_bench.parse(["--orders", "5", "--in-flight", "5", "--slow-ms", "60000", "--bound-s", "0.5"])
    report = asyncio.run(quote_bench.run(args))
    assert report["ghtk_slow"]["unavailable"]["ghtk"] == 5
    json.dumps(report)  # what --results writes
