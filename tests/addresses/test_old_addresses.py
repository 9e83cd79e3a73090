"""The resolver on 340 old addresses as customers type them: never a wrong ward; its hit rate is reported.

The table (old_addresses.csv) and how its expected wards were built: make_table.py. bench/address_bench.py prints
the same figures with every refusal and wrong answer, beside the converter's own parser.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import address_bench

TABLE = address_bench.rows()


def test_the_table_is_what_the_issue_asks_for() -> None:
    assert len(TABLE) >= 300
    assert len({row["old_province"] for row in TABLE if row["old_province"]}) == 63  # every old province
    forms = {row["form"] for row in TABLE}
    assert {"abbrev", "folded", "names", "no_district", "nocomma", "new", "hand"} <= forms
    assert sum(row["expected"] == "ambiguous" for row in TABLE) >= 20  # split wards
    merged = [row for row in TABLE if row["old_province"] == "Tỉnh Bình Dương"]
    assert merged and all(row["province_code"] == "79" for row in merged)  # Bình Dương is in TP Hồ Chí Minh now


def test_no_address_gets_a_wrong_ward(capsys: pytest.CaptureFixture[str]) -> None:
    wrong = address_bench.score("orders-service resolver", address_bench.ours, TABLE)
    report = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + report.splitlines()[0])  # the hit rate, in the test log
    assert wrong == 0, report


def test_the_bench_runs() -> None:
    assert address_bench.main(["--no-baseline"]) == 0
