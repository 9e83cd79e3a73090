"""JSON bodies decoded strictly: "2" is not a quantity and 450000.0 is not an amount of money."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

_NO_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Litestar converts bodies leniently (strings to numbers, floats to ints); money must not be guessed.

    Runs before the handler's own decoding, on the handler's declared body type, and refuses what a lenient
    conversion would have accepted. Malformed JSON is left to the normal path, which answers 400.
    """
    if request.method in _NO_BODY:
        return
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return
    body = await request.body()
    if not body.strip():
        return
    try:
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return  # malformed: Litestar's own decoding answers it as such
    if not isinstance(decoded, dict):
        return
    try:
        msgspec.convert(decoded, type=field.annotation, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(detail=str(error), extra=[{"message": str(error), "source": "body"}]) from None
