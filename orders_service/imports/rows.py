"""What reading a row gives besides a value: a row to skip, or the first of its fields that is wrong."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeAlias


class RowError(Exception):
    """A cell that does not hold what its column should; `field` is the column as the file names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclasses.dataclass
class Failed:
    line: int
    field: str | None
    message: str


@dataclasses.dataclass
class Skipped:
    reason: str
    line: int = 0


Parsed: TypeAlias = Any  # a layout's value (ProductRow, CustomerRow), Failed or Skipped
