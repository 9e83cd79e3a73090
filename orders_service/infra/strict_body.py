"""JSON bodies decoded strictly: "2" is not a quantity and 450000.0 is not an amount of money."""

from __future__ import annotations

from typing import Any, NoReturn

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException

_NO_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


def _malformed(message: str) -> NoReturn:
    """A 400 the problem mapping renders as a malformed body (it looks for the serialization cause)."""
    raise ClientException(detail=message) from SerializationException(message)


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Litestar converts bodies leniently (strings to numbers, floats to ints); money must not be guessed.

    Runs before the handler's own decoding, on the handler's declared body type, and refuses what a lenient
    conversion would have accepted. A body that is not JSON at all (truncated, not UTF-8, nested too deeply)
    is a 400 from here, before Litestar's decoder would raise it as an unexpected error.
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
    except msgspec.DecodeError as error:
        _malformed(str(error))
    except UnicodeDecodeError:
        _malformed("the request body is not valid UTF-8 JSON")
    except RecursionError:
        _malformed("nested too deeply")
    if not isinstance(decoded, dict):
        return
    try:
        msgspec.convert(decoded, type=field.annotation, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(detail=str(error), extra=[{"message": str(error), "source": "body"}]) from None
