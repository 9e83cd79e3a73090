"""Product rows read into plain values, and the rows of one product gathered into one product (a row per variant)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any

from orders_service.geo import fold
from orders_service.imports.formats import Binding
from orders_service.imports.rows import Failed, Parsed, RowError, Skipped
from orders_service.imports.values import BadValue, grams, money, whole

MAX_VARIANTS = 200  # the catalogue's bound on variants per product

_SIZE_NAMES = {"size", "kich thuoc", "kich co", "co", "sz"}
_COLOR_NAMES = {"mau", "mau sac", "color", "colour"}
_SIZE_VALUE = re.compile(
    r"^(?:x{0,3}s|m|x{0,4}l|[2-5]xl|free ?size|freesize|one ?size|\d{1,3}(?:[.,]5)?|\d{1,2}-\d{1,2}[my]?)$",
    re.IGNORECASE,
)


@dataclasses.dataclass
class ProductRow:
    """One variant as the file gives it; `group` tells which rows make one product."""

    group: str
    sku: str
    name: str
    weight_g: int
    price: int
    stock: int
    size: str | None = None
    color: str | None = None
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    variant_weight_g: int | None = None


@dataclasses.dataclass
class ProductGroup:
    """The rows of one product, in file order, as the catalogue's ProductIn (a plain dict until converted)."""

    lines: list[int]
    rows: list[ProductRow]
    headers: dict[str, str]  # field -> the file's header, to name a column in an error

    @property
    def sku(self) -> str:
        return self.rows[0].sku

    def as_dict(self) -> dict[str, Any]:
        first = self.rows[0]
        name = next((row.name for row in self.rows if row.name), "")
        product: dict[str, Any] = {"sku": first.sku, "name": name, "weight_g": first.weight_g, "variants": []}
        for dimension in ("length_cm", "width_cm", "height_cm"):
            if getattr(first, dimension) is not None:
                product[dimension] = getattr(first, dimension)
        for row in self.rows:
            variant: dict[str, Any] = {"price": row.price, "stock": row.stock, "size": row.size, "color": row.color}
            own = row.variant_weight_g if row.variant_weight_g is not None else row.weight_g
            if own != first.weight_g:
                variant["weight_g"] = own
            product["variants"].append(variant)
        return product


def parse_product(binding: Binding, line: int, cells: list[str]) -> Parsed:
    """One row of any product layout, as a ProductRow, a row to skip, or the first field that is wrong."""
    try:
        parsed = _PARSERS[binding.layout.name](binding, cells)
    except RowError as error:
        return Failed(line, error.field, error.message)
    if isinstance(parsed, Skipped):
        parsed.line = line
    return parsed


class _Cells:
    """A row's cells read through its layout, each value error naming the column as the file does."""

    def __init__(self, binding: Binding, cells: list[str]) -> None:
        self.binding, self.cells = binding, cells

    def text(self, field: str, *, required: bool = False, limit: int = 200) -> str:
        value = self.binding.cell(self.cells, field)
        if required and not value:
            raise RowError(self.binding.header(field), "empty: give a value")
        if len(value) > limit:
            raise RowError(self.binding.header(field), f"longer than {limit} characters")
        return value

    def number(self, field: str, read: Any, *args: Any, required: bool = True) -> Any:
        value = self.text(field, required=required)
        if not value:
            return None
        try:
            return read(value, *args)
        except BadValue as error:
            raise RowError(self.binding.header(field), str(error)) from None


def _ours(binding: Binding, cells: list[str]) -> Parsed:
    row = _Cells(binding, cells)
    sku = row.text("sku", required=True, limit=64)
    return ProductRow(
        group=sku,
        sku=sku,
        name=row.text("name"),
        weight_g=row.number("weight_g", grams),
        price=row.number("price", money),
        stock=row.number("stock", whole),
        size=row.text("size", limit=32) or None,
        color=row.text("color", limit=32) or None,
        length_cm=row.number("length_cm", whole, required=False),
        width_cm=row.number("width_cm", whole, required=False),
        height_cm=row.number("height_cm", whole, required=False),
        variant_weight_g=row.number("variant_weight_g", grams, required=False),
    )


def _sapo(binding: Binding, cells: list[str]) -> Parsed:
    row = _Cells(binding, cells)
    sku = row.text("sku", required=True, limit=64)
    name = row.text("name")
    # Sapo writes a product's name, alias and id on its first variant's row only when exported from the web
    # admin; its ids (or alias) are the product when present, otherwise a row without a name continues the last.
    group = row.text("product_id") or row.text("alias") or (f"name:{name}" if name else "")
    unit = row.text("weight_unit") or "g"
    options = {}
    for n in (1, 2, 3):
        options[row.text(f"option{n}_name")] = row.text(f"option{n}_value", limit=32)
    size, color = _size_and_color(options)
    return ProductRow(
        group=group,
        sku=sku,
        name=name,
        weight_g=row.number("weight", grams, unit),
        price=row.number("price", money),
        stock=row.number("stock", whole),
        size=size,
        color=color,
    )


def _kiotviet(binding: Binding, cells: list[str]) -> Parsed:
    row = _Cells(binding, cells)
    sku = row.text("sku", required=True, limit=64)
    base = row.text("base_unit")
    if base:
        return Skipped(f"a unit of {base} (Mã ĐVT Cơ bản), not a variant: its stock is counted in {base}'s")
    # "SIZE:M|MÀU SẮC:Đỏ"
    pairs = (part.partition(":") for part in row.text("attributes", limit=500).split("|") if ":" in part)
    size, color = _size_and_color({name: value.strip() for name, _, value in pairs})
    group = row.text("related", limit=64) or sku
    return ProductRow(
        group=group,
        sku=group,
        name=row.text("name"),
        weight_g=row.number("weight", grams),
        price=row.number("price", money),
        stock=row.number("stock", whole),
        size=size,
        color=color,
    )


def _shopee(binding: Binding, cells: list[str]) -> Parsed:
    row = _Cells(binding, cells)
    product_id = row.text("product_id", limit=64)
    if not product_id.isdigit():
        # The download repeats its labels and notes on the rows under the keys.
        return Skipped("a label or note row of Shopee's template, not a product")
    sku = row.text("parent_sku", limit=64) or f"SHOPEE-{product_id}"
    size, color = _split_variation(row.text("variation", limit=100))
    return ProductRow(
        group=product_id,
        sku=sku,
        name=row.text("name"),
        weight_g=row.number("weight", grams, "kg"),  # Shopee's shipping sheet gives kilograms
        price=row.number("price", money),
        stock=row.number("stock", whole),
        size=size,
        color=color,
    )


_PARSERS = {"ours": _ours, "sapo": _sapo, "kiotviet": _kiotviet, "shopee": _shopee}


def _size_and_color(options: dict[str, str]) -> tuple[str | None, str | None]:
    size = color = None
    for name, value in options.items():
        key = fold(name).lower().strip()
        if not value:
            continue
        if key in _SIZE_NAMES and size is None:
            size = value
        elif key in _COLOR_NAMES and color is None:
            color = value
    return size, color


def _split_variation(text: str) -> tuple[str | None, str | None]:
    """Shopee's variation name, "Đỏ,M" or "M" or "Đỏ": a size-like part is the size, the other the colour."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    size = next((part for part in parts if _SIZE_VALUE.match(part)), None)
    color = next((part for part in parts if part != size), None)
    return (size[:32] if size else None), (color[:32] if color else None)


def group_products(parsed: Iterable[tuple[int, Parsed]], binding: Binding) -> Iterator[ProductGroup | Parsed]:
    """Consecutive rows of one product become one group; rows that failed or are skipped pass through in order.

    Only consecutive rows are gathered, so that memory stays bounded by one product: a product whose rows are
    spread over the file is imported once per run of rows, each changing or adding the variants it names.
    """
    headers = dict(binding.names)
    current: ProductGroup | None = None
    for line, item in parsed:
        if not isinstance(item, ProductRow):
            yield item  # the product around it goes on: one bad variant row does not split it
            continue
        continues = current is not None and (item.group == current.rows[0].group or not item.group)
        if current is not None and continues and len(current.rows) < MAX_VARIANTS:
            current.lines.append(line)
            current.rows.append(item)
            continue
        if current is not None:
            yield current
        if not item.group:
            yield Failed(line, binding.header("name"), "empty, and no product above to add this variant to")
            current = None
            continue
        current = ProductGroup([line], [item], headers)
    if current is not None:
        yield current
