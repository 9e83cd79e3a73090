"""Catalogue use cases: create, read, search, change products, and create-or-update many (the importers').

Each runs inside the caller's transaction and never commits (the HTTP edge does, or the importer per batch).
Stock on hand is only ever set by a conditional UPDATE that keeps it at or above what is reserved, so a
product change racing an order never leaves `available` negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec
from advanced_alchemy.filters import LimitOffset, OrderBy, SearchFilter, StatementFilter
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue import stock
from orders_service.catalogue.models import Product, ProductVariant
from orders_service.catalogue.schemas import (
    FieldError,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductResult,
    VariantIn,
    VariantOut,
    VariantPatch,
)
from orders_service.db.engine import begin_write
from orders_service.domain.errors import DomainError, InvalidField, NotFound, ProductExists
from orders_service.geo import fold
from orders_service.infra.pagination import Repository


def variant_key(size: str | None, color: str | None) -> tuple[str, str]:
    """How a variant is stored and matched: no size (colour) is ""; spaces around are not part of it."""
    return ((size or "").strip(), (color or "").strip())


def variant_out(product: Product, variant: ProductVariant) -> VariantOut:
    return VariantOut(
        size=variant.size or None,
        color=variant.color or None,
        price=variant.price,
        weight_g=variant.weight_g or product.weight_g,
        stock=variant.stock,
        reserved=variant.reserved,
        available=variant.stock - variant.reserved,
    )


def to_out(product: Product) -> ProductOut:
    return ProductOut(
        id=product.id,
        sku=product.sku,
        name=product.name,
        weight_g=product.weight_g,
        length_cm=product.length_cm,
        width_cm=product.width_cm,
        height_cm=product.height_cm,
        variants=[variant_out(product, v) for v in product.variants],
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _clean_sku(sku: str) -> str:
    cleaned = sku.strip()
    if not cleaned:
        raise InvalidField("sku", "give the product's SKU")
    return cleaned


def _check_variants(variants: Sequence[VariantIn | VariantPatch], prefix: str = "variants") -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, variant in enumerate(variants):
        key = variant_key(variant.size, variant.color)
        if key in seen:
            raise InvalidField(
                f"{prefix}[{i}]", f"the same size and colour as {prefix}[{seen[key]}]: give each variant once"
            )
        seen[key] = i


async def _find(session: AsyncSession, sku: str) -> Product | None:
    return await session.scalar(select(Product).where(Product.sku == sku).execution_options(populate_existing=True))


async def get_product(session: AsyncSession, sku: str) -> Product:
    product = await _find(session, sku.strip())
    if product is None:
        raise NotFound("product", sku)
    return product


async def _set_stock(session: AsyncSession, variant: ProductVariant, stock: int, field: str) -> None:
    """Stock on hand becomes `stock`, unless open orders hold more than that."""
    done = await session.execute(
        update(ProductVariant)
        .where(ProductVariant.id == variant.id, ProductVariant.reserved <= stock)
        .values(stock=stock)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        reserved = await session.scalar(select(ProductVariant.reserved).where(ProductVariant.id == variant.id))
        raise InvalidField(field, f"{reserved} are reserved by open orders: stock cannot be less than that")


def _new_variant(data: VariantIn | VariantPatch, position: int, field: str) -> ProductVariant:
    if data.price is msgspec.UNSET or data.stock is msgspec.UNSET:
        missing = "price" if data.price is msgspec.UNSET else "stock"
        raise InvalidField(f"{field}.{missing}", "a new variant needs its price and stock")
    size, color = variant_key(data.size, data.color)
    weight = None if data.weight_g is msgspec.UNSET else data.weight_g
    return ProductVariant(
        size=size, color=color, price=data.price, weight_g=weight, stock=data.stock, reserved=0, position=position
    )


async def _apply_variants(
    session: AsyncSession, product: Product, variants: Sequence[VariantIn | VariantPatch], prefix: str
) -> None:
    """Change the variants named (by size and colour), add the new ones; the others stay as they are."""
    _check_variants(variants, prefix)
    existing = {(v.size, v.color): v for v in product.variants}
    stocks: list[tuple[ProductVariant, int, str]] = []
    for i, data in enumerate(variants):
        field = f"{prefix}[{i}]"
        found = existing.get(variant_key(data.size, data.color))
        if found is None:
            position = max((v.position for v in product.variants), default=-1) + 1
            product.variants.append(_new_variant(data, position, field))
            continue
        if data.price is not msgspec.UNSET:
            found.price = data.price
        if data.weight_g is not msgspec.UNSET:
            found.weight_g = data.weight_g
        if data.stock is not msgspec.UNSET:
            stocks.append((found, data.stock, f"{field}.stock"))
    await session.flush()
    for variant, units, field in stocks:
        await _set_stock(session, variant, units, field)


def _describe(product: Product, data: ProductIn | ProductPatch) -> None:
    for name in ("name", "weight_g", "length_cm", "width_cm", "height_cm"):
        value = getattr(data, name)
        if value is not msgspec.UNSET:
            setattr(product, name, value.strip() if isinstance(value, str) else value)
    if not product.name:
        raise InvalidField("name", "give the product's name")
    product.search_name = fold(product.name).lower()[:300]


async def create_product(session: AsyncSession, data: ProductIn) -> Product:
    await begin_write(session)
    stock.forget(session)
    sku = _clean_sku(data.sku)
    _check_variants(data.variants)
    if await _find(session, sku) is not None:
        raise ProductExists(sku)
    product = Product(sku=sku, name="", search_name="", weight_g=data.weight_g, variants=[])
    _describe(product, data)
    product.variants = [_new_variant(v, i, f"variants[{i}]") for i, v in enumerate(data.variants)]
    session.add(product)
    await session.flush()
    return product


async def patch_product(session: AsyncSession, sku: str, data: ProductPatch) -> Product:
    await begin_write(session)
    stock.forget(session)
    product = await get_product(session, sku)
    _describe(product, data)
    if data.variants is not msgspec.UNSET:
        await _apply_variants(session, product, data.variants, "variants")
    await session.flush()
    return await get_product(session, sku)  # stock was set in SQL: read it back


class ProductRepository(Repository[Product]):
    model_type = Product


async def search_products(
    session: AsyncSession, *, q: str | None, limit: int, offset: int
) -> tuple[list[Product], int]:
    """Products whose SKU or name holds each of the first five words of `q` (accent- and case-insensitive)."""
    found: list[ColumnElement[bool] | StatementFilter] = []
    for word in fold(q or "").lower().split()[:5]:
        found.append(SearchFilter({"search_name", "sku"}, word, ignore_case=True, escape_wildcards=True))
    rows, total = await ProductRepository(session=session).get_many_and_count(
        *found, OrderBy("sku", "asc"), LimitOffset(limit, offset)
    )
    return list(rows), total


async def upsert_products(session: AsyncSession, products: Sequence[ProductIn]) -> list[ProductResult]:
    """Create each product, or update the one with its SKU; one result per product, in order.

    A product refused (a bad field, stock below what open orders hold) is rolled back alone (a savepoint) and
    reported with the fields why; the others go on. An update replaces the name, weight and dimensions, and
    changes or adds the variants given, matched by size and colour; variants not given are kept (open orders
    may hold them). Nothing is committed here: the caller commits (per batch, for an import).
    """
    await begin_write(session)
    stock.forget(session)
    results: list[ProductResult] = []
    for data in products:
        sku = data.sku.strip()
        outcome: Literal["created", "updated"]
        try:
            async with session.begin_nested():
                product = await _find(session, _clean_sku(data.sku))
                if product is None:
                    product = await create_product(session, data)
                    outcome = "created"
                else:
                    _describe(product, data)
                    await _apply_variants(session, product, data.variants, "variants")
                    outcome = "updated"
                await session.flush()
        except InvalidField as error:
            results.append(ProductResult(sku=sku, outcome="invalid", errors=[FieldError(error.field, error.message)]))
            continue
        except ProductExists as error:  # created by a concurrent import between our read and our insert
            results.append(ProductResult(sku=sku, outcome="invalid", errors=[FieldError(error.field, error.message)]))
            continue
        except IntegrityError:
            message = "changed by a concurrent request meanwhile; import it again"
            results.append(ProductResult(sku=sku, outcome="invalid", errors=[FieldError("sku", message)]))
            continue
        except DomainError as error:
            results.append(ProductResult(sku=sku, outcome="invalid", errors=[FieldError("body", error.detail)]))
            continue
        fresh = await get_product(session, product.sku)
        results.append(ProductResult(sku=fresh.sku, outcome=outcome, product=to_out(fresh)))
    return results
