"""A statement as it arrives: a JSON body, a CSV body, or a CSV file in a form; and how the schema describes them.

The handler reads the body itself, by its content type, because one operation takes three shapes; the JSON is held
to the same strict rules as every other body (orders_service.infra.strict_body): the first field that does not fit
is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from couriers.capabilities import COURIERS
from orders_service.cod.formats import FIELDS, MAX_ROWS, MAX_TRACKING, TRACKING, BadStatement, Row, decode, formats
from orders_service.cod.formats import parse as parse_csv
from orders_service.cod.schemas import REFERENCE as REFERENCE_PATTERN
from orders_service.cod.schemas import StatementIn
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import MAX_MONEY
from orders_service.infra.invalid_field import first_invalid
from orders_service.infra.problems import BODY, InvalidBody

CSV = "text/csv"


@dataclass(frozen=True)
class Upload:
    courier: str
    rows: list[Row]
    source: str  # json | csv | ghn | ghtk
    reference: str | None


def _courier(given: str | None, detected: str | None) -> str:
    if given is not None and given not in COURIERS:
        raise InvalidField("courier", f"unknown courier {given[:40]!r}; one of {', '.join(COURIERS)}")
    if detected is not None and given is not None and given != detected:
        raise InvalidField("courier", f"the file is {detected}'s statement, not {given}'s")
    courier = detected or given
    if courier is None:
        raise InvalidField("courier", "name the courier of a statement in our own CSV format")
    return courier


def _json(body: bytes) -> Upload:
    if not body.strip():
        raise InvalidBody(BODY, "send a statement: JSON, a CSV body, or a CSV file in a form", malformed=True)
    try:
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidBody(BODY, f"not a JSON document: {error}", malformed=True) from None
    invalid = first_invalid(decoded, StatementIn)
    if invalid is not None:
        raise InvalidBody(invalid.field or BODY, invalid.message)
    data = msgspec.convert(decoded, StatementIn, strict=True)
    rows = [Row(r.tracking_code, r.cod_collected, r.fee) for r in data.rows]
    return Upload(courier=data.courier, rows=rows, source="json", reference=data.reference)


def _csv(data: bytes, courier: str | None, reference: str | None, extra: Any) -> Upload:
    try:
        parsed = parse_csv(decode(data), formats(extra))
    except BadStatement as error:
        raise InvalidField(error.field, error.message) from None
    return Upload(_courier(courier, parsed.courier), parsed.rows, parsed.format, reference)


async def read_upload(request: Request[Any, Any, Any], courier: str | None, reference: str | None) -> Upload:
    """The statement in the request, by its content type; a form carries the CSV as `file`, and may name the
    courier and reference as fields (the query's win when both are given)."""
    extra = request.app.state["settings"].cod_columns
    kind = request.content_type[0]
    if kind == RequestEncodingType.MULTI_PART or kind == RequestEncodingType.URL_ENCODED:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidField("file", "attach the statement's CSV as the form field `file`")
        named = form.get("courier")
        given_ref = form.get("reference")
        courier = courier or (named.strip() if isinstance(named, str) and named.strip() else None)
        reference = reference or (given_ref.strip() if isinstance(given_ref, str) and given_ref.strip() else None)
        return _csv(await upload.read(), courier, reference, extra)
    body = await request.body()
    if kind in (CSV, "text/plain", "application/csv"):
        return _csv(body, courier, reference, extra)
    return _json(body)


def _string(**kw: Any) -> Schema:
    return Schema(type=OpenAPIType.STRING, **kw)


def _money(description: str) -> Schema:
    return Schema(type=OpenAPIType.INTEGER, minimum=0, maximum=MAX_MONEY, description=description)


COURIER = _string(enum=list(COURIERS), description="the courier whose statement it is")
REFERENCE = _string(min_length=1, max_length=64, pattern=REFERENCE_PATTERN)
ROW = Schema(
    type=OpenAPIType.OBJECT,
    required=list(FIELDS),
    additional_properties=False,
    properties={
        "tracking_code": _string(min_length=1, max_length=MAX_TRACKING, pattern=f"^{TRACKING.pattern}$"),
        "cod_collected": _money("what the courier collected on the parcel, VND"),
        "fee": _money("what the courier charges for the parcel, VND"),
    },
)
STATEMENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["courier", "rows"],
    additional_properties=False,
    properties={
        "courier": COURIER,
        "rows": Schema(type=OpenAPIType.ARRAY, items=ROW, min_items=1, max_items=MAX_ROWS),
        "reference": REFERENCE,
    },
)
FILE_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file"],
    properties={"file": _string(format="binary"), "courier": COURIER, "reference": REFERENCE},
)


@dataclass
class StatementUpload(Operation):
    """The operation as Litestar builds it, with the three bodies the handler reads itself."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="JSON; or a CSV (ours: `tracking_code,cod_collected,fee`; GHN's or GHTK's export), as the "
            "body (`text/csv`, the courier in `?courier=` for ours) or as the form field `file`",
            content={
                "application/json": OpenAPIMediaType(schema=STATEMENT),
                CSV: OpenAPIMediaType(schema=_string(min_length=1, description="a header line, then a parcel a line")),
                "multipart/form-data": OpenAPIMediaType(schema=FILE_FORM),
            },
        )
