"""Pure: what an order's lines take from the catalogue: the units each line sends, their weight and size.

A plain line sends its quantity of its variant; a try-on line sends one of each option (domain/returns.py
counts the same way). Items not in the catalogue have no weight of their own: a parcel holding any weighs
DEFAULT_PARCEL_WEIGHT_G more, which is what every parcel weighed before the catalogue, so a shop without one
ships exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from orders_service.domain.errors import InvalidField
from orders_service.domain.model import Line

DEFAULT_PARCEL_WEIGHT_G = 500
Key = tuple[str, str, str]  # sku, size, colour ("" for none)
FieldOf = Callable[[Line, int], str]  # a line and its index -> the field path that names it in the request


def key(sku: str, size: str | None, color: str | None) -> Key:
    return (sku, (size or "").strip(), (color or "").strip())


def default_field(_: Line, index: int) -> str:
    return f"lines[{index}]"


class Found(NamedTuple):
    """A catalogue variant as an order line sees it."""

    variant_id: UUID
    name: str
    price: int
    weight_g: int
    length_cm: int | None
    width_cm: int | None
    height_cm: int | None
    stock: int
    reserved: int

    @property
    def available(self) -> int:
        return self.stock - self.reserved


def describe(at: Key) -> str:
    sku, size, color = at
    variant = ", ".join(part for part in (size, color) if part)
    return f"{sku} ({variant})" if variant else sku


class Snapshot:
    """The catalogue's variants of some SKUs, as read once."""

    def __init__(self, variants: Mapping[Key, Found]) -> None:
        self.variants = dict(variants)
        self.skus: dict[str, list[Key]] = {}
        for at in self.variants:
            self.skus.setdefault(at[0], []).append(at)

    def find(self, sku: str, size: str | None, color: str | None, field: str) -> Found | None:
        """The variant, or None for a SKU the catalogue does not sell; a size or colour it lacks is a 422."""
        at = key(sku, size, color)
        if at in self.variants or sku not in self.skus:
            return self.variants.get(at)
        known = self.skus[sku]
        which = "color" if any(k[1] == at[1] for k in known) else "size"
        choices = "; ".join(describe(k) for k in known)
        raise InvalidField(f"{field}.{which}", f"the catalogue has no {describe(at)}, only {choices}")


class Unit(NamedTuple):
    size: str | None
    color: str | None
    quantity: int
    suffix: str  # "" for the line itself, ".tryon_options[j]" for an option


def units(line: Line) -> Iterator[Unit]:
    if line.tryon_options is None:
        yield Unit(line.size, line.color, line.quantity, "")
        return
    for j, option in enumerate(line.tryon_options):
        yield Unit(option.size, option.color, 1, f".tryon_options[{j}]")


def wanted(
    lines: Sequence[Line], snapshot: Snapshot, field_of: FieldOf = default_field
) -> tuple[dict[UUID, int], dict[UUID, list[tuple[str, int]]]]:
    """How many of each catalogue variant the lines send, and the fields that want each (field, quantity)."""
    counts: dict[UUID, int] = {}
    fields: dict[UUID, list[tuple[str, int]]] = {}
    for index, line in enumerate(lines):
        for unit in units(line):
            field = field_of(line, index) + unit.suffix
            found = snapshot.find(line.sku, unit.size, unit.color, field)
            if found is not None:
                counts[found.variant_id] = counts.get(found.variant_id, 0) + unit.quantity
                fields.setdefault(found.variant_id, []).append((field, unit.quantity))
    return counts, fields


def first_beyond(fields: Sequence[tuple[str, int]], limit: int) -> str:
    """The field whose units take the count past `limit` (the last one if none does)."""
    total = 0
    for field, quantity in fields:
        total += quantity
        if total > limit:
            return field
    return fields[-1][0]


class Measure(NamedTuple):
    weight_g: int
    length_cm: int | None
    width_cm: int | None
    height_cm: int | None
    lines: dict[str, Any]  # line id -> {"weight_g": g | None, "options": [g | None, ...]}


def measure(lines: Sequence[Line], snapshot: Snapshot) -> Measure:
    """The parcel's weight (catalogue weights, plus the default for items the catalogue does not sell) and size.

    Size: items laid side by side in the longest length and width, stacked in height; only items with all three
    dimensions count, and a parcel with none has no size (couriers then use their own default box).
    """
    known, unknown = 0, False
    length = width = height = 0
    per_line: dict[str, Any] = {}
    for line in lines:
        weights: list[int | None] = []
        for unit in units(line):
            found = snapshot.variants.get(key(line.sku, unit.size, unit.color))
            if found is None:
                unknown = True
                weights.append(None)
                continue
            weights.append(found.weight_g)
            known += found.weight_g * unit.quantity
            if found.length_cm and found.width_cm and found.height_cm:
                length, width = max(length, found.length_cm), max(width, found.width_cm)
                height += found.height_cm * unit.quantity
        if line.tryon_options is None:
            weight = None if weights[0] is None else weights[0] * line.quantity
            per_line[line.id] = {"weight_g": weight, "options": []}
        else:
            total = None if any(w is None for w in weights) else sum(w or 0 for w in weights)
            per_line[line.id] = {"weight_g": total, "options": weights}
    weight = known + (DEFAULT_PARCEL_WEIGHT_G if unknown or not known else 0)
    if not height:
        return Measure(weight, None, None, None, per_line)
    return Measure(weight, length, width, height, per_line)


def kept(lines: Sequence[Line], snapshot: Snapshot) -> dict[UUID, int]:
    """How many of each catalogue variant the customer kept of a delivered order.

    What the courier reported (`kept`), else the whole of a plain line and, of a try-on line, its `quantity`
    dearest options (what the money counts until the courier says).
    """
    counts: dict[UUID, int] = {}
    for line in lines:
        if line.kept is not None:
            items = [(item.size, item.color, item.quantity) for item in line.kept]
        elif line.tryon_options is None:
            items = [(line.size, line.color, line.quantity)]
        else:
            dearest = sorted(line.tryon_options, key=lambda o: -o.unit_price)[: line.quantity]
            items = [(option.size, option.color, 1) for option in dearest]
        for size, color, quantity in items:
            found = snapshot.variants.get(key(line.sku, size, color))
            if found is not None:
                counts[found.variant_id] = counts.get(found.variant_id, 0) + quantity
    return counts
