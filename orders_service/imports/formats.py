"""The CSV layouts we read, told apart by their header row: our own, and the exports of Sapo, KiotViet and Shopee.

Each layout names, for each field we import, the column headers that hold it (as the platform writes them;
matched without regard to case, repeated spaces or the trailing `*` of a required column). docs/imports.md
lists them with their sources.
"""

from __future__ import annotations

import dataclasses
import enum

from orders_service.domain.errors import InvalidField
from orders_service.imports.reader import FILE, clean_header


class Kind(enum.StrEnum):
    PRODUCTS = "products"
    CUSTOMERS = "customers"


@dataclasses.dataclass(frozen=True)
class Column:
    field: str
    headers: tuple[str, ...]
    required: bool = False
    # Every column present among `headers` feeds the field (Sapo's two phone columns), not only the first.
    gather: bool = False


@dataclasses.dataclass(frozen=True)
class Layout:
    name: str
    kind: Kind
    title: str
    columns: tuple[Column, ...]

    def bind(self, header: list[str]) -> Binding:
        """Where each field is in this header, or an InvalidField naming the required columns it lacks."""
        keys = [header_key(cell) for cell in header]
        positions: dict[str, list[int]] = {}
        names: dict[str, str] = {}
        missing: list[str] = []
        for column in self.columns:
            wanted = [header_key(h) for h in column.headers]
            found = [i for key in wanted for i, have in enumerate(keys) if have == key]
            if not column.gather:
                found = found[:1]
            if found:
                positions[column.field] = found
                names[column.field] = header[found[0]]
            elif column.required:
                missing.append(column.headers[0])
        if missing:
            raise InvalidField(FILE, f"not a {self.title} file: it has no column {_listed(missing)}")
        return Binding(self, positions, names)

    def required_found(self, header: list[str]) -> tuple[int, int]:
        """How many of the required columns `header` has, out of how many."""
        keys = {header_key(cell) for cell in header}
        required = [c for c in self.columns if c.required]
        return sum(any(header_key(h) in keys for h in c.headers) for c in required), len(required)


@dataclasses.dataclass(frozen=True)
class Binding:
    layout: Layout
    positions: dict[str, list[int]]
    names: dict[str, str]

    def has(self, field: str) -> bool:
        return field in self.positions

    def cell(self, cells: list[str], field: str) -> str:
        """The field's cell in this row, stripped; "" when the file has no such column or the row is short."""
        for i in self.positions.get(field, ()):
            if i < len(cells) and cells[i].strip():
                return cells[i].strip()
        return ""

    def cells(self, cells: list[str], field: str) -> list[str]:
        """Every non-blank cell of a gathered field."""
        return [cells[i].strip() for i in self.positions.get(field, ()) if i < len(cells) and cells[i].strip()]

    def header(self, field: str) -> str:
        """The column's header as the file writes it, to name it in a row's error."""
        return self.names.get(field, field)


def header_key(text: str) -> str:
    return clean_header(text).rstrip("*").strip().casefold()


def _listed(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def detect(layouts: tuple[Layout, ...], header: list[str], forced: str | None = None) -> Binding:
    """The layout whose required columns the header has; with `forced`, that layout or why it does not fit."""
    if forced is not None:
        chosen = next((layout for layout in layouts if layout.name == forced), None)
        if chosen is None:
            names = ", ".join(layout.name for layout in layouts)
            raise InvalidField("format", f"{forced!r} is not a format of {layouts[0].kind}: give one of {names}")
        return chosen.bind(header)
    for layout in layouts:
        found, required = layout.required_found(header)
        if found == required:
            return layout.bind(header)
    # None fits: name the closest one and what it lacks, so that a renamed column is easy to spot.
    closest = max(layouts, key=lambda layout: layout.required_found(header)[0] / layout.required_found(header)[1])
    if closest.required_found(header)[0] == 0:
        ours = layouts[0]
        expected = ", ".join(c.headers[0] for c in ours.columns if c.required)
        raise InvalidField(
            FILE,
            f"the header row matches no {ours.kind} format we read (ours, Sapo, KiotViet, Shopee); "
            f"our own needs the columns {expected}",
        )
    closest.bind(header)  # raises, naming the missing columns
    raise AssertionError("unreachable: bind() found every required column")
