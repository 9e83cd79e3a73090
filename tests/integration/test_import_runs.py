"""The import loop on SQLite and PostgreSQL: batches, a product never split, a refused batch, the CLI."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from orders_service.cli import main
from orders_service.db.engine import create_engine
from orders_service.imports.customers import CustomerRow, apply_customers
from orders_service.imports.reader import CsvFile
from orders_service.imports.runner import run_import
from orders_service.imports.schemas import RowResult
from orders_service.imports.services import CUSTOMERS, PRODUCTS
from orders_service.infra.settings import Settings
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings, poolclass=NullPool)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


def csv(*lines: str) -> CsvFile:
    return CsvFile(io.BytesIO("\n".join(lines).encode() + b"\n"))


async def test_rows_are_told_in_order_across_batches_and_a_product_is_never_split(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    source = csv(
        "sku,name,weight_g,size,price,stock",
        "A,Áo,200,S,100000,1",
        "A,Áo,200,M,100000,x",
        "A,Áo,200,L,100000,3",
        "B,Bút,20,,5000,4",
        "C,Cốc,300,,80000,5",
    )
    told: list[RowResult] = []
    binding, totals = await run_import(sessionmaker, PRODUCTS, source, on_result=told.append, batch_rows=2)
    assert binding.layout.name == "ours"
    assert [(r.line, r.status, r.key) for r in told] == [
        (2, "created", "A"),
        (3, "error", None),
        (4, "created", "A"),
        (5, "created", "B"),
        (6, "created", "C"),
    ]
    assert (totals.rows, totals.created, totals.errors) == (5, 4, 1)


async def test_a_batch_the_database_refuses_is_told_row_by_row_and_the_next_batches_go_on(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def refuse_line_4(session: AsyncSession, rows: list[Any]) -> list[RowResult]:
        results = await apply_customers(session, rows)
        if any(isinstance(row, CustomerRow) and row.line == 4 for row in rows):
            await session.execute(text("SELECT * FROM no_such_table"))  # a real error from the database
        return results

    importer = dataclasses.replace(CUSTOMERS, save=refuse_line_4)
    source = csv("name,phones", "An,0901000001", "Bình,0901000002", "Chi,0901000003", "Dũng,0901000004")
    told: list[RowResult] = []
    _, totals = await run_import(sessionmaker, importer, source, on_result=told.append, batch_rows=2)
    # Batches of two rows: lines 2-3, then 4-5, which the database refuses.
    assert [(r.line, r.status) for r in told] == [(2, "created"), (3, "created"), (4, "error"), (5, "error")]
    assert told[2].message is not None and told[2].message.startswith("not saved")
    again: list[RowResult] = []
    source = csv("name,phones", "An,0901000001", "Bình,0901000002", "Chi,0901000003", "Dũng,0901000004")
    await run_import(sessionmaker, CUSTOMERS, source, on_result=again.append)
    # Chi and Dũng were rolled back with their batch: imported now; An and Bình were kept.
    assert [r.status for r in again] == ["unchanged", "unchanged", "created", "created"]
    assert totals.errors == 2


def test_the_command_imports_prints_the_failed_rows_and_exits_1_when_any_failed(settings: Settings) -> None:
    env = {"DATABASE_URL": settings.database_url, "ORDERS_DATA_DIR": str(settings.data_dir)}
    sample = str(SAMPLES / "customers_ours.csv")
    first = CliRunner().invoke(main, ["import", "customers", sample], env=env)
    assert first.exit_code == 1, first.output
    assert "line 6: error [phones]: '12345' is not a valid phone number" in first.stderr
    assert "line 7: error [birthday]" in first.stderr
    assert first.stdout.strip().endswith("6 rows: 3 created, 1 updated, 0 unchanged, 0 skipped, 2 failed")
    second = CliRunner().invoke(main, ["import", "customers", "--quiet", sample], env=env)
    assert "0 created, 0 updated, 4 unchanged" in second.stdout
    clean = CliRunner().invoke(main, ["import", "products", str(SAMPLES / "products_shopee.csv")], env=env)
    assert clean.exit_code == 0, clean.output
    assert "Shopee product format, 6 rows: 4 created, 0 updated, 0 unchanged, 2 skipped, 0 failed" in clean.stdout
