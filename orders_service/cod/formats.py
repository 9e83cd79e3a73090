"""Statement CSVs: ours, GHN's and GHTK's exports, told apart by their header, read into rows. Pure: text in, rows out.

Which columns are read, and where their names come from (the README's "COD statements" lists them too):

- ours: `tracking_code`, `cod_collected`, `fee`, the JSON body's field names; the courier comes with the upload.
- GHN: the parcel is GHN's `order_code` (`OrderCode` in webhooks), the COD `cod_amount` (`CODAmount`), the fee
  `total_fee` (`TotalFee`): the names of GHN's API (order detail, create, webhook: reference/couriers.md §1.3, §1.4,
  §1.7, confirmed). The column titles of the portal's "file đối soát" (khachhang.ghn.vn, "COD và đối soát") are not
  published; "Mã đơn GHN", "Tiền thu hộ"/"Tiền COD", "Tổng phí"/"Phí dịch vụ" are what they are likely to be.
- GHTK: the parcel is GHTK's `label_id`/`label`, the COD `pick_money`, the fee `ship_money` (status) or `fee`
  (webhook): GHTK's API names (§2.4, §2.5, confirmed). The portal export's titles are not published either: "Mã đơn
  GHTK", "Tiền thu hộ", "Phí ship"/"Phí vận chuyển" are likely ones.

Titles not confirmed are configuration: `ORDERS_COD_COLUMNS` adds titles per courier and field, e.g.
`ghn.tracking_code=Mã vận đơn|Mã đơn hàng;ghtk.fee=Tổng cước`. Titles match without regard to case, accents as
written, spaces around them, or a trailing parenthesis ("Tiền thu hộ (VNĐ)").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from orders_service.domain.model import MAX_MONEY

FIELDS = ("tracking_code", "cod_collected", "fee")
MAX_ROWS = 10_000
MAX_TRACKING = 64
BOM = "\ufeff"
TRACKING = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
# 720000, 720.000, 720,000, "720.000 ₫", "720000đ", "720,000 VND": whole VND, thousands grouped by three.
_AMOUNT = re.compile(r"\d{1,3}(?:([.,])\d{3})?(?:\1\d{3})*|\d+")
_CURRENCY = re.compile(r"(₫|đ|vnđ|vnd)$", re.IGNORECASE)
_TOTAL = re.compile(r"^(tổng|tong|total|cộng)", re.IGNORECASE)


class BadStatement(ValueError):
    """A statement that cannot be read: `field` names where (`file`, `courier`, or a line and column)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Row:
    tracking_code: str
    cod_collected: int
    fee: int


@dataclass(frozen=True)
class Format:
    name: str  # csv (ours), ghn, ghtk
    courier: str | None  # None: ours, the upload names the courier
    columns: Mapping[str, tuple[str, ...]]  # field -> the titles it may have, normalised


@dataclass
class Parsed:
    format: str
    courier: str | None
    rows: list[Row] = field(default_factory=list)


def normalise(title: str) -> str:
    """ " Tiền thu hộ (VNĐ) " -> "tiền thu hộ"; a BOM, case and inner spaces do not count."""
    text = unicodedata.normalize("NFC", title).replace(BOM, "").strip().casefold()
    text = re.sub(r"\s*\([^)]*\)$", "", text)
    return re.sub(r"\s+", " ", text)


def _titles(*names: str) -> tuple[str, ...]:
    return tuple(normalise(n) for n in names)


OURS = Format("csv", None, {f: _titles(f) for f in FIELDS})
BUILT_IN: dict[str, dict[str, tuple[str, ...]]] = {
    "ghn": {
        "tracking_code": _titles("order_code", "OrderCode", "Mã đơn GHN", "Mã vận đơn GHN"),
        "cod_collected": _titles("cod_amount", "CODAmount", "Tiền thu hộ", "Tiền COD", "COD"),
        "fee": _titles("total_fee", "TotalFee", "Tổng phí", "Phí dịch vụ", "Cước phí"),
    },
    "ghtk": {
        "tracking_code": _titles("label_id", "label", "Mã đơn GHTK", "Mã vận đơn GHTK"),
        "cod_collected": _titles("pick_money", "Tiền thu hộ", "Tiền COD"),
        "fee": _titles("ship_money", "fee", "Phí ship", "Phí vận chuyển", "Tổng phí"),
    },
}


def parse_columns(raw: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """`ghn.tracking_code=Mã vận đơn|Mã đơn;ghtk.fee=Tổng cước` -> extra titles per courier and field."""
    extra: dict[str, dict[str, tuple[str, ...]]] = {}
    for item in (part.strip() for part in raw.split(";") if part.strip()):
        key, _, titles = item.partition("=")
        courier, _, name = key.strip().lower().partition(".")
        names = _titles(*(t for t in titles.split("|") if t.strip()))
        if courier not in BUILT_IN or name not in FIELDS or not names:
            raise ValueError(
                f"ORDERS_COD_COLUMNS: {item!r} must be <courier>.<field>=<title>|<title> with a courier among "
                f"{', '.join(BUILT_IN)} and a field among {', '.join(FIELDS)}"
            )
        found = extra.setdefault(courier, {})
        found[name] = found.get(name, ()) + names
    return extra


def formats(extra: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> list[Format]:
    """Ours first, then each courier's export with the titles configured beside the built-in ones."""
    found = [OURS]
    for courier, columns in BUILT_IN.items():
        added = (extra or {}).get(courier, {})
        found.append(Format(courier, courier, {f: columns[f] + tuple(added.get(f, ())) for f in FIELDS}))
    return found


def _where(header: list[str], fmt: Format) -> dict[str, int] | None:
    """The column of each field in `header`, or None when one is missing."""
    titles = [normalise(t) for t in header]
    found = {}
    for name in FIELDS:
        index = next((i for i, t in enumerate(titles) if t in fmt.columns[name]), None)
        if index is None:
            return None
        found[name] = index
    return found


def detect(header: list[str], known: Iterable[Format]) -> tuple[Format, dict[str, int]]:
    """The one format whose three columns the header holds. The couriers share titles for the COD and the fee
    ("Tiền thu hộ"), never for the parcel's column: that column says whose export it is."""
    matches = [(fmt, cols) for fmt in known if (cols := _where(header, fmt)) is not None]
    if len(matches) > 1:  # the same titles for COD and fee: the parcel's column tells them apart, if it does
        names = ", ".join(fmt.name for fmt, _ in matches)
        raise BadStatement("file", f"line 1: the header fits more than one format ({names}); name the courier's "
                           "parcel column as only one of them does")  # fmt: skip
    if not matches:
        accepted = "; ".join(f"{fmt.name}: " + ", ".join(fmt.columns[f][0] for f in FIELDS) for fmt in known)
        raise BadStatement("file", f"line 1: the header names no statement format we read (accepted: {accepted})")
    return matches[0]


def amount(text: str, where: str) -> int:
    """A whole number of VND as statements write it; negative or fractional amounts are refused."""
    value = re.sub(r"\s+", "", text).strip()
    value = _CURRENCY.sub("", value)
    if value.startswith("-") or value.startswith("("):
        raise BadStatement(where, f"a negative amount ({text.strip()!r}): statements list money collected")
    if not value or not _AMOUNT.fullmatch(value):
        raise BadStatement(where, f"not a whole amount of VND: {text.strip()!r}")
    found = int(re.sub(r"[.,]", "", value))
    if found > MAX_MONEY:
        raise BadStatement(where, f"more than {MAX_MONEY:,} VND: {text.strip()!r}")
    return found


def tracking(text: str, where: str) -> str:
    code = text.strip()
    if len(code) > MAX_TRACKING or not TRACKING.fullmatch(code):
        raise BadStatement(where, f"not a tracking code: {code[:80]!r}")
    return code


def _delimiter(first_line: str) -> str:
    """Excel in Vietnamese locales writes `;` where others write `,`; tabs come from copying a sheet."""
    return max((",", ";", "\t"), key=first_line.count)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadStatement("file", "the file is not UTF-8 text (save the sheet as CSV UTF-8)") from None


def parse(text: str, known: Iterable[Format]) -> Parsed:
    """The rows of a statement CSV; `line N, <column>` names the first cell that cannot be read."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise BadStatement("file", "the file is empty: a header line, then one line per parcel")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]), strict=True)
    try:
        header = next(reader)
        fmt, columns = detect(header, known)
        parsed = Parsed(format=fmt.name, courier=fmt.courier)
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) <= max(columns.values()):
                raise BadStatement(f"line {line}", f"{len(cells)} cells where the header has {len(header)}")
            code = cells[columns["tracking_code"]].strip()
            if _TOTAL.match(code or " ".join(c.strip() for c in cells).strip()):
                continue  # the statement's own total line
            if len(parsed.rows) == MAX_ROWS:
                raise BadStatement(f"line {line}", f"more than {MAX_ROWS} parcels in one statement: split it")
            cell = {name: f"line {line}, {header[i].replace(BOM, '').strip()}" for name, i in columns.items()}
            parsed.rows.append(
                Row(
                    tracking_code=tracking(code, cell["tracking_code"]),
                    cod_collected=amount(cells[columns["cod_collected"]], cell["cod_collected"]),
                    fee=amount(cells[columns["fee"]], cell["fee"]),
                )
            )
    except csv.Error as error:
        raise BadStatement(f"line {reader.line_num}", f"not well-formed CSV: {error}") from None
    if not parsed.rows:
        raise BadStatement("file", "the statement lists no parcel")
    return parsed
