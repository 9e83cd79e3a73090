"""Products saved through the catalogue's upsert_products, and its answer per product told back per row."""

from __future__ import annotations

import re

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue.models import Product
from orders_service.catalogue.schemas import ProductIn, ProductResult
from orders_service.catalogue.services import create_product, upsert_products
from orders_service.domain.errors import DomainError, InvalidField
from orders_service.imports.products import ProductGroup
from orders_service.imports.schemas import RowResult

_PATH = re.compile(r"`\$\.?([^`]*)`")
_VARIANT = re.compile(r"^variants\[(\d+)\]\.?(.*)$")
# The catalogue's field -> the layout's field holding it (the file's column comes from the group's headers).
_COLUMNS = {"weight_g": ("weight_g", "weight"), "sku": ("sku", "parent_sku", "product_id", "related")}


async def save_products(session: AsyncSession, groups: list[ProductGroup]) -> list[RowResult]:
    """Each group checked against ProductIn, then the valid ones upserted together; a result for every row."""
    results: list[RowResult] = []
    valid: list[tuple[ProductGroup, ProductIn]] = []
    for group in groups:
        try:
            valid.append((group, msgspec.convert(group.as_dict(), ProductIn)))
        except msgspec.ValidationError as error:
            match = _PATH.search(str(error))
            results += _refused(group, match.group(1) if match else "", str(error).split(" - at ")[0])
    # One query for the batch tells the new products: each is created at once (create_product checks before it
    # writes, so a refusal leaves nothing behind); a SKU already in the catalogue, or met earlier in the batch,
    # goes through upsert_products, which changes it in a savepoint of its own.
    existing = await _existing(session, [data.sku.strip() for _, data in valid])
    for group, data in valid:
        sku = data.sku.strip()
        if sku in existing:
            results += _told(group, (await upsert_products(session, [data]))[0])
            continue
        try:
            product = await create_product(session, data)
        except InvalidField as error:
            results += _refused(group, error.field, error.message)
            continue
        except DomainError as error:
            results += _refused(group, "", error.detail)
            continue
        existing.add(sku)
        results += [RowResult(line, "created", key=product.sku) for line in group.lines]
    return results


async def _existing(session: AsyncSession, skus: list[str]) -> set[str]:
    if not skus:
        return set()
    found = await session.scalars(select(Product.sku).where(Product.sku.in_(sorted(set(skus)))))
    return set(found)


def _told(group: ProductGroup, answer: ProductResult) -> list[RowResult]:
    if answer.outcome == "invalid":
        error = answer.errors[0] if answer.errors else None
        return _refused(group, error.field if error else "", error.message if error else "refused")
    return [RowResult(line, answer.outcome, key=answer.sku) for line in group.lines]


def _refused(group: ProductGroup, path: str, message: str) -> list[RowResult]:
    """The row the error is about gets it with its column; the product's other rows say which row stopped them."""
    variant = _VARIANT.match(path)
    if variant is not None and int(variant.group(1)) < len(group.lines):
        at = int(variant.group(1))
        culprit = group.lines[at]
        field = _column(group, variant.group(2) or "size")
        stopped = f"not imported: line {culprit} of this product is wrong"
        return [
            RowResult(line, "error", key=group.sku, field=field, message=message)
            if line == culprit
            else RowResult(line, "error", key=group.sku, message=stopped)
            for line in group.lines
        ]
    column = _column(group, path) if path and path != "body" else None
    return [RowResult(line, "error", key=group.sku, field=column, message=message) for line in group.lines]


def _column(group: ProductGroup, field: str) -> str:
    for name in _COLUMNS.get(field, (field,)):
        if name in group.headers:
            return group.headers[name]
    return field
