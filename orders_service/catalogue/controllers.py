"""HTTP: the catalogue (staff)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from orders_service.catalogue import services
from orders_service.catalogue.schemas import ProductIn, ProductOut, ProductPatch
from orders_service.domain.model import Sku
from orders_service.infra.deps import DbSession
from orders_service.infra.pagination import Limit, Offset, Page, text_query


class ProductController(Controller):
    path = "/api/products"
    tags = ["Catalogue"]  # noqa: RUF012

    @post(
        "/",
        summary="Add a product with its variants; a SKU already in the catalogue is a 409",
        description="Each variant is a size and/or colour with its price (VND), stock on hand and optional weight "
        "(else the product's). Order lines with this SKU then take its price, weight and reserve its stock.",
    )
    async def create_product(self, db_session: DbSession, data: JSONBody[ProductIn]) -> ProductOut:
        return services.to_out(await services.create_product(db_session, data))

    @get("/", summary="Search products by SKU or name (accent-insensitive), with stock, reserved and available")
    async def search_products(
        self,
        db_session: DbSession,
        q: Annotated[str | None, text_query(120, "words of the SKU or name")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ProductOut]:
        rows, total = await services.search_products(db_session, q=q, limit=limit, offset=offset)
        return Page(items=[services.to_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/{sku:str}", summary="A product with each variant's stock, reserved and available")
    async def get_product(self, db_session: DbSession, sku: FromPath[Sku]) -> ProductOut:
        return services.to_out(await services.get_product(db_session, sku))

    @patch(
        "/{sku:str}",
        summary="Change a product: fields given change; variants named by size/colour change or are added",
        description="Stock on hand cannot go below what open orders reserve (422 naming `variants[i].stock`).",
    )
    async def patch_product(
        self, db_session: DbSession, sku: FromPath[Sku], data: JSONBody[ProductPatch]
    ) -> ProductOut:
        return services.to_out(await services.patch_product(db_session, sku, data))
