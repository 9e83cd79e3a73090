"""Import use cases: a CSV of products or customers, read as a stream and saved in batches."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.imports import customer_layouts, product_layouts
from orders_service.imports.customer_save import save_customers
from orders_service.imports.customers import CustomerRow, parse_customer
from orders_service.imports.formats import Binding, Kind
from orders_service.imports.product_save import save_products
from orders_service.imports.products import ProductGroup, group_products, parse_product
from orders_service.imports.reader import CsvFile
from orders_service.imports.runner import Importer, run_import
from orders_service.imports.schemas import RowResult, Totals
from orders_service.infra import clock

# Past this much the answer's rows spill from memory to a temporary file.
SPOOL_BYTES = 1024 * 1024


def _each_row(parsed: object, _binding: Binding) -> Iterator[object]:
    return (item for _, item in parsed)  # type: ignore[attr-defined]


CUSTOMERS = Importer(
    kind=Kind.CUSTOMERS,
    layouts=customer_layouts.LAYOUTS,
    parse=lambda binding, line, cells: parse_customer(binding, line, cells, clock.now().date()),
    gather=_each_row,
    lines_of=lambda row: [row.line] if isinstance(row, CustomerRow) else [],
    save=save_customers,
)

PRODUCTS = Importer(
    kind=Kind.PRODUCTS,
    layouts=product_layouts.LAYOUTS,
    parse=parse_product,
    gather=group_products,
    lines_of=lambda group: group.lines if isinstance(group, ProductGroup) else [],
    save=save_products,
)

IMPORTERS: dict[Kind, Importer] = {Kind.CUSTOMERS: CUSTOMERS, Kind.PRODUCTS: PRODUCTS}


async def import_csv(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: Kind,
    raw: IO[bytes],
    *,
    layout: str | None = None,
    on_result: Callable[[RowResult], None],
    on_progress: Callable[[int, int], None] = lambda _b, _r: None,
) -> tuple[Binding, Totals]:
    """Import the CSV in `raw` (a binary file, read once from its start); InvalidField when it cannot be read."""
    return await run_import(
        sessionmaker, IMPORTERS[kind], CsvFile(raw), layout=layout, on_result=on_result, on_progress=on_progress
    )


class SpooledReport:
    """An ImportReport written as the rows come, and read back as JSON chunks: memory holds at most SPOOL_BYTES."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (chunks() closes it)
        self._empty = True
        self.layout = ""
        self.totals = Totals()

    def add(self, result: RowResult) -> None:
        self._file.write((b"" if self._empty else b",") + msgspec.json.encode(result))
        self._empty = False

    def chunks(self) -> Iterator[bytes]:
        try:
            head = {"kind": str(self.kind), "format": self.layout, "totals": self.totals}
            yield msgspec.json.encode(head)[:-1] + b',"rows":['
            self._file.seek(0)
            while chunk := self._file.read(64 * 1024):
                yield chunk
            yield b"]}"
        finally:
            self._file.close()

    def close(self) -> None:
        self._file.close()


async def import_upload(
    sessionmaker: async_sessionmaker[AsyncSession], kind: Kind, raw: IO[bytes], layout: str | None
) -> SpooledReport:
    """Import an uploaded CSV; the report to answer with, every batch committed before it is read."""
    report = SpooledReport(kind)
    try:
        binding, report.totals = await import_csv(sessionmaker, kind, raw, layout=layout, on_result=report.add)
    except BaseException:
        report.close()
        raise
    report.layout = binding.layout.name
    return report
