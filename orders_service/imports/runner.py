"""The import loop: read a row, parse it, gather a batch, save the batch in one transaction, report each row.

Memory holds one batch of rows and the current product, whatever the size of the file; results leave through
`on_result` as each batch commits. A row that fails (a bad cell, a phone another profile holds) is reported with
its line and the others go on; a batch the database refuses as a whole is reported row by row, and the next
batch is tried.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.db.engine import DatabaseBusy, begin_write
from orders_service.imports.formats import Binding, Kind, Layout, detect
from orders_service.imports.reader import CsvFile
from orders_service.imports.rows import Failed, Parsed, Skipped
from orders_service.imports.schemas import RowResult, Totals

log = logging.getLogger(__name__)

BATCH_ROWS = 500
PROGRESS_EVERY = 200


@dataclasses.dataclass(frozen=True)
class Importer:
    """What differs between products and customers: the layouts, reading a row, gathering rows, saving them."""

    kind: Kind
    layouts: tuple[Layout, ...]
    parse: Callable[[Binding, int, list[str]], Parsed]
    gather: Callable[[Iterable[tuple[int, Parsed]], Binding], Iterator[Any]]
    lines_of: Callable[[Any], list[int]]
    save: Callable[[AsyncSession, list[Any]], Awaitable[list[RowResult]]]


def passed(result: Any) -> RowResult | None:
    """A row that is already a result: one that failed to parse or is skipped."""
    if isinstance(result, Failed):
        return RowResult(result.line, "error", field=result.field, message=result.message)
    if isinstance(result, Skipped):
        return RowResult(result.line, "skipped", message=result.reason)
    return None


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    importer: Importer,
    source: CsvFile,
    *,
    layout: str | None = None,
    on_result: Callable[[RowResult], None],
    on_progress: Callable[[int, int], None] = lambda _bytes, _rows: None,
    batch_rows: int = BATCH_ROWS,
) -> tuple[Binding, Totals]:
    """Import every row of `source`; returns the layout found and the totals."""
    binding = detect(importer.layouts, source.header, layout)
    totals = Totals()
    seen = 0

    def parsed() -> Iterator[tuple[int, Parsed]]:
        nonlocal seen
        for line, cells in source.rows():
            seen += 1
            if seen % PROGRESS_EVERY == 0:
                on_progress(source.bytes_read, seen)
            if isinstance(cells, str):
                yield line, Failed(line, None, cells)
            else:
                yield line, importer.parse(binding, line, cells)

    def emit(results: list[RowResult]) -> None:
        for result in sorted(results, key=lambda r: r.line):
            totals.count(result)
            on_result(result)

    batch: list[Any] = []
    done: list[RowResult] = []
    rows_in_batch = 0
    for item in importer.gather(parsed(), binding):
        result = passed(item)
        if result is not None:
            done.append(result)
            continue
        batch.append(item)
        rows_in_batch += len(importer.lines_of(item))
        if rows_in_batch >= batch_rows:
            emit(done + await _save(sessionmaker, importer, batch))
            batch, done, rows_in_batch = [], [], 0
            on_progress(source.bytes_read, seen)
    emit(done + (await _save(sessionmaker, importer, batch) if batch else []))
    on_progress(source.bytes_read, seen)
    return binding, totals


async def _save(
    sessionmaker: async_sessionmaker[AsyncSession], importer: Importer, batch: list[Any]
) -> list[RowResult]:
    try:
        async with sessionmaker() as session, session.begin():
            # A writer from the start: a batch that read first and wrote later would fail at once on SQLite
            # when another writer committed in between (its snapshot is stale), not wait its turn.
            await begin_write(session)
            return await importer.save(session, batch)
    except (SQLAlchemyError, DatabaseBusy, OSError) as error:
        # Nothing of this batch was saved (its transaction rolled back); the next batch may well be.
        log.warning("import batch of %d not saved: %s", len(batch), error)
        reason = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
        lines = [line for unit in batch for line in importer.lines_of(unit)]
        return [
            RowResult(line, "error", message=f"not saved, the database refused the batch: {reason}") for line in lines
        ]
