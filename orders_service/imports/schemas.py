"""What an import answers: a result per row (its line in the file) and the totals."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

Status = Literal["created", "updated", "unchanged", "skipped", "error"]


class RowResult(Struct, omit_defaults=True):
    """One row: `key` is the product's SKU or the customer's id; `field` the column (as the file names it) that
    made the row fail, and `message` why (or why it was skipped)."""

    line: int
    status: Status
    key: str | None = None
    field: str | None = None
    message: str | None = None


class Totals(Struct):
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0

    def count(self, result: RowResult) -> None:
        self.rows += 1
        name = "errors" if result.status == "error" else result.status
        setattr(self, name, getattr(self, name) + 1)


class ImportReport(Struct):
    """The answer of POST /api/products/import and /api/customers/import: every row's result, in file order
    within each batch of rows saved together."""

    kind: Literal["products", "customers"]
    format: Literal["ours", "sapo", "kiotviet", "shopee"]
    totals: Totals
    rows: list[RowResult]
