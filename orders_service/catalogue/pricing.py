"""Catalogue prices for order lines that leave them out, before the domain computes the money.

A plain line without `unit_price`, a try-on option without one (or at 0), and a `swap_variant` without one
take the catalogue variant's price; a price given is the shop's and is kept. Lines whose SKU the catalogue
does not sell are left as they are (the domain then asks for a price as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue.measure import Snapshot
from orders_service.catalogue.stock import lookup
from orders_service.domain.model import Order, TryonOption
from orders_service.domain.operations import AddLine, LineIn, Operation, SetTryonOptions, SwapVariant


def _options(sku: str, options: Sequence[TryonOption], snapshot: Snapshot, field: str) -> list[TryonOption]:
    priced = []
    for j, option in enumerate(options):
        found = snapshot.find(sku, option.size, option.color, f"{field}.tryon_options[{j}]")
        if found is not None and option.unit_price == 0:
            option = msgspec.structs.replace(option, unit_price=found.price)
        priced.append(option)
    return priced


def _line(line: LineIn, snapshot: Snapshot, field: str) -> LineIn:
    if line.tryon_options is not None:
        return msgspec.structs.replace(line, tryon_options=_options(line.sku, line.tryon_options, snapshot, field))
    found = snapshot.find(line.sku, line.size, line.color, field)
    if found is None or line.unit_price is not None:
        return line
    return msgspec.structs.replace(line, unit_price=found.price)


async def price_lines(session: AsyncSession, lines: Sequence[LineIn], prefix: str = "lines") -> list[LineIn]:
    """The new order's lines with catalogue prices where they left them out."""
    snapshot = await lookup(session, (line.sku for line in lines))
    return [_line(line, snapshot, f"{prefix}[{i}]") for i, line in enumerate(lines)]


async def price_operations(session: AsyncSession, operations: Sequence[Operation], before: Order) -> list[Operation]:
    """An amendment's operations with catalogue prices where they left them out (added lines, swapped variants,
    new try-on options). A swap names the line's SKU; an operation on a line that does not exist is left for the
    domain to refuse."""
    line_of = {line.id: line for line in before.lines}
    skus = {line.sku for line in before.lines} | {op.line.sku for op in operations if isinstance(op, AddLine)}
    if not any(isinstance(op, AddLine | SwapVariant | SetTryonOptions) for op in operations):
        return list(operations)
    snapshot = await lookup(session, skus)
    priced: list[Operation] = []
    for k, op in enumerate(operations):
        field = f"operations[{k}]"
        if isinstance(op, AddLine):
            op = msgspec.structs.replace(op, line=_line(op.line, snapshot, f"{field}.line"))
        elif isinstance(op, SetTryonOptions) and str(op.line_id) in line_of:
            sku = line_of[str(op.line_id)].sku
            op = msgspec.structs.replace(op, tryon_options=_options(sku, op.tryon_options, snapshot, field))
        elif isinstance(op, SwapVariant) and op.unit_price is UNSET and str(op.line_id) in line_of:
            line = line_of[str(op.line_id)]
            size = line.size if op.size is UNSET else op.size
            color = line.color if op.color is UNSET else op.color
            found = snapshot.find(line.sku, size, color, field)
            if found is not None and line.tryon_options is None:
                op = msgspec.structs.replace(op, unit_price=found.price)
        priced.append(op)
    return priced
