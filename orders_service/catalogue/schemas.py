"""Catalogue payloads, as the contract names them (POST/PATCH /api/products, the importers' rows)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field

from orders_service.domain.model import ProductName, Sku, UnitPrice, Variant

MAX_WEIGHT_G = 1_000_000  # 1 tonne: far above any parcel a courier takes, a bound against typos
MAX_STOCK = 10_000_000
MAX_VARIANTS = 200

WeightG = Annotated[int, Meta(ge=1, le=MAX_WEIGHT_G, description="grams")]
Centimetres = Annotated[int, Meta(ge=1, le=1_000, description="centimetres")]
Stock = Annotated[int, Meta(ge=0, le=MAX_STOCK, description="units on hand")]


class VariantIn(Struct, forbid_unknown_fields=True):
    """One size/colour. `weight_g` overrides the product's; `stock` is what is on hand now."""

    price: UnitPrice
    stock: Stock
    size: Variant | None = None
    color: Variant | None = None
    weight_g: WeightG | None = None


class ProductIn(Struct, forbid_unknown_fields=True):
    """A product: create (POST), or create-or-replace by `sku` (imports): variants are matched by size and colour."""

    sku: Sku
    name: ProductName
    weight_g: WeightG
    variants: Annotated[list[VariantIn], Meta(min_length=1, max_length=MAX_VARIANTS)]
    length_cm: Centimetres | None = None
    width_cm: Centimetres | None = None
    height_cm: Centimetres | None = None


class VariantPatch(Struct, forbid_unknown_fields=True):
    """A variant to change (found by size and colour) or add (then `price` and `stock` are needed)."""

    size: Variant | None = None
    color: Variant | None = None
    price: UnitPrice | UnsetType = UNSET
    stock: Stock | UnsetType = UNSET
    weight_g: WeightG | UnsetType | None = UNSET


class ProductPatch(Struct, forbid_unknown_fields=True):
    """Only the fields given change; variants not named stay as they are."""

    name: ProductName | UnsetType = UNSET
    weight_g: WeightG | UnsetType = UNSET
    length_cm: Centimetres | UnsetType | None = UNSET
    width_cm: Centimetres | UnsetType | None = UNSET
    height_cm: Centimetres | UnsetType | None = UNSET
    variants: Annotated[list[VariantPatch], Meta(max_length=MAX_VARIANTS)] | UnsetType = UNSET


class VariantOut(Struct):
    size: str | None
    color: str | None
    price: int
    weight_g: int  # the variant's own, else the product's
    stock: int  # on hand
    reserved: int  # held by open orders and parcels out for try-on
    available: int  # stock - reserved


class ProductOut(Struct):
    id: UUID
    sku: str
    name: str
    weight_g: int
    length_cm: int | None
    width_cm: int | None
    height_cm: int | None
    variants: list[VariantOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class FieldError(Struct):
    field: str
    message: str


class ProductResult(Struct, omit_defaults=True):
    """What `upsert_products` did with one product: created, updated, or refused (with the fields why)."""

    sku: str
    outcome: Literal["created", "updated", "invalid"]
    product: ProductOut | None = None
    errors: list[FieldError] = field(default_factory=list)
