"""A CSV file read a row at a time: its header, then (line number, values) pairs, never the whole file in memory."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from typing import IO

from orders_service.domain.errors import InvalidField

FILE = "file"
# A cell longer than this is no product name or phone: a file that is not CSV, or a quote left open.
MAX_FIELD_CHARS = 10_000
MAX_HEADER_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t")
# What a file that is not text starts with: a workbook (xlsx is a zip, xls an OLE file), a PDF, an image.
_BINARY_MAGIC = {
    b"PK\x03\x04": "an Excel workbook (.xlsx): save it as CSV UTF-8",
    b"\xd0\xcf\x11\xe0": "an Excel 97 workbook (.xls): save it as CSV UTF-8",
    b"%PDF": "a PDF",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
}


class CsvFile:
    """One CSV file: `header` (cells as written), `rows()` yielding (line number, cells) and `bytes_read`."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        start = raw.read(MAX_HEADER_BYTES)
        raw.seek(0)
        self.encoding = _encoding(start)
        self.delimiter = _delimiter(start, self.encoding)
        # surrogateescape: a byte that is not UTF-8 fails its own row (see rows()), not the whole file.
        self._text = io.TextIOWrapper(raw, encoding=self.encoding, errors="surrogateescape", newline="")
        self._reader = csv.reader(self._text, delimiter=self.delimiter, strict=False)
        self.header = self._read_header()

    @property
    def bytes_read(self) -> int:
        """How far into the file the reader is, in bytes (for a progress bar; read ahead in chunks)."""
        return self._raw.tell()

    def _read_header(self) -> list[str]:
        try:
            for cells in self._reader:
                if any(cell.strip() for cell in cells):
                    if any(_has_undecodable(cell) for cell in cells):
                        raise InvalidField(FILE, "the header row is not UTF-8 text: save the file as CSV UTF-8")
                    return [clean_header(cell) for cell in cells]
        except csv.Error as error:
            raise InvalidField(FILE, f"not a CSV file: {error}") from None
        raise InvalidField(FILE, "the file is empty: give a header row and at least one row")

    def rows(self) -> Iterator[tuple[int, list[str] | str]]:
        """(line, cells) for each non-blank row, or (line, reason) for a row that cannot be read.

        `line` is the file's line number where the row starts (the header is line 1 when it comes first), as a
        spreadsheet or an editor shows it; a quoted cell may span lines.
        """
        reader = self._reader
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield line, f"not readable as CSV: {error}"
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if any(_has_undecodable(cell) for cell in cells):
                yield line, "not UTF-8 text: save the file as CSV UTF-8"
            elif any(len(cell) > MAX_FIELD_CHARS for cell in cells):
                yield line, f"a cell is longer than {MAX_FIELD_CHARS} characters"
            else:
                yield line, cells


def clean_header(cell: str) -> str:
    return " ".join(unicodedata.normalize("NFC", cell).split())


def _has_undecodable(cell: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in cell)


def _encoding(start: bytes) -> str:
    for magic, what in _BINARY_MAGIC.items():
        if start.startswith(magic):
            raise InvalidField(FILE, f"this is {what}, not a CSV file")
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    if b"\x00" in start:
        raise InvalidField(FILE, "this is a binary file, not a CSV file")
    return "utf-8-sig"  # Excel's "CSV UTF-8" starts with a byte order mark; without one it is plain UTF-8


def _delimiter(start: bytes, encoding: str) -> str:
    """The separator the header row uses most: Excel writes ';' where the decimal separator is ','."""
    text = start.decode(encoding, errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","
