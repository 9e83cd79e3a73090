"""HTTP: POST /api/products/import and /api/customers/import, a CSV uploaded as multipart or as the body."""

from __future__ import annotations

import dataclasses
import tempfile
from typing import IO, Any, Literal

from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromQuery
from litestar.response import Stream

from orders_service.domain.errors import InvalidField
from orders_service.imports.formats import Kind
from orders_service.imports.reader import FILE
from orders_service.imports.schemas import ImportReport
from orders_service.imports.services import import_upload
from orders_service.infra.deps import sessionmaker_of
from orders_service.infra.problems import PROBLEM_JSON, Problem

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # 100 MB: about 600,000 rows of a platform's export
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"})
Format = Literal["ours", "sapo", "kiotviet", "shopee"]
DESCRIPTION = (
    "Send the CSV as the body (`Content-Type: text/csv`) or as the field `file` of a multipart form. The format "
    "is told from the header row (our own columns, or an export of Sapo, KiotViet or Shopee: docs/imports.md); "
    "`?format=` forces one. Each batch of 500 rows is saved as it is read; a bad row is reported with its line "
    "and the others go on. The answer lists every row's result and the totals. A file that is not CSV, or whose "
    "header fits no format, is a 422 naming the missing columns; a body of another type is a 415; over 100 MB a "
    "413."
)


@dataclasses.dataclass
class _CsvUpload(Operation):
    """The operation with its request body: Litestar sees none, since the handler reads the stream itself."""

    def __post_init__(self) -> None:
        upload = Schema(
            type=OpenAPIType.OBJECT,
            properties={"file": Schema(type=OpenAPIType.STRING, format="binary")},  # type: ignore[arg-type]
            required=["file"],
        )
        self.request_body = RequestBody(
            content={
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                RequestEncodingType.MULTI_PART.value: OpenAPIMediaType(schema=upload),
            },
            required=True,
        )


_RESPONSES = {
    200: ResponseSpec(ImportReport, description="Every row's result, and the totals", generate_examples=False),
    415: ResponseSpec(
        Problem,
        description="The body is not CSV nor a multipart form",
        media_type=PROBLEM_JSON,
        generate_examples=False,
    ),
}


async def _upload(request: Request[Any, Any, Any]) -> IO[bytes]:
    """The uploaded CSV as a binary file, spilled to disk past 1 MB: never the whole upload in memory."""
    content_type, _ = request.content_type
    if content_type == RequestEncodingType.MULTI_PART:
        form = await request.form()
        upload = form.get(FILE)
        if not isinstance(upload, UploadFile):
            raise InvalidField(FILE, "send the CSV as the form's field `file`")
        return upload.file
    if content_type in CSV_TYPES:
        spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (_import closes it)
        async for chunk in request.stream():
            spooled.write(chunk)
        spooled.seek(0)
        return spooled
    raise HTTPException(
        status_code=415,
        detail="send the CSV as text/csv or as the field `file` of multipart/form-data, "
        f"not {content_type or 'no type'}",
    )


async def _import(request: Request[Any, Any, Any], kind: Kind, layout: str | None) -> Stream:
    raw = await _upload(request)
    try:
        report = await import_upload(sessionmaker_of(request), kind, raw, layout)
    finally:
        raw.close()
    # Streamed from the report's file: the rows of a large import never sit in memory as one JSON document.
    return Stream(report.chunks(), media_type="application/json", status_code=200)


class ImportController(Controller):
    tags = ["Imports"]  # noqa: RUF012

    @post(
        "/api/products/import",
        summary="Import products from a CSV (ours, Sapo, KiotViet, Shopee); per-row results",
        description=DESCRIPTION,
        request_max_body_size=MAX_UPLOAD_BYTES,
        operation_class=_CsvUpload,
        responses=_RESPONSES,
    )
    async def import_products(self, request: Request[Any, Any, Any], format: FromQuery[Format | None] = None) -> Stream:
        return await _import(request, Kind.PRODUCTS, format)

    @post(
        "/api/customers/import",
        summary="Import customers from a CSV (ours, Sapo, KiotViet, Shopee orders), merged by phone; per-row results",
        description=DESCRIPTION.replace("500 rows", "500 rows (a customer found by phone is merged)"),
        request_max_body_size=MAX_UPLOAD_BYTES,
        operation_class=_CsvUpload,
        responses=_RESPONSES,
    )
    async def import_customers(
        self, request: Request[Any, Any, Any], format: FromQuery[Format | None] = None
    ) -> Stream:
        return await _import(request, Kind.CUSTOMERS, format)
