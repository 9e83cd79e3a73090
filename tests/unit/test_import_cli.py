"""`orders-service import` refuses what it cannot do in one line and status 2, before touching any database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orders_service.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["import"], "say what to import"),
        (["import", "orders", "x.csv"], "No such command 'orders'"),
        (["import", "customers"], "Missing argument 'FILE'"),
        (["import", "customers", "no-such-file.csv"], "does not exist"),
        (["import", "products", str(SAMPLES)], "is a directory"),
        (["import", "products", "--format", "excel", str(SAMPLES / "products_ours.csv")], "'excel' is not one of"),
        (["import", "products", "--bogus", str(SAMPLES / "products_ours.csv")], "No such option '--bogus'"),
        (["import", "products", str(SAMPLES / "customers_ours.csv")], 'no column "sku"'),
        (["import", "customers", "--format", "shopee", str(SAMPLES / "customers_ours.csv")], '"Người Mua"'),
    ],
)
def test_wrong_arguments_are_one_line_and_status_2(tmp_path: Path, args: list[str], says: str) -> None:
    # A database URL that cannot work: the command must stop before it would try it.
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "ORDERS_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert says in result.output and "Usage" not in result.output and "Traceback" not in result.output
    assert not list(tmp_path.iterdir())  # no database file made
