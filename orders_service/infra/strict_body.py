"""JSON bodies decoded strictly: "2" is not a quantity and 450000.0 is not an amount of money."""

from __future__ import annotations

from typing import Any, NoReturn

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException

from orders_service.infra.invalid_field import first_invalid
from orders_service.infra.problems import BODY, InvalidBody

_NO_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


def _malformed(message: str) -> NoReturn:
    """A 400 the problem mapping renders as a malformed body (it looks for the serialization cause)."""
    raise ClientException(detail=message) from SerializationException(message)


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Litestar converts bodies leniently (strings to numbers, floats to ints); money must not be guessed.

    Runs before the handler's own decoding, on the handler's declared body type, and refuses what a lenient
    conversion would have accepted. A body that is not JSON at all (truncated, not UTF-8, nested too deeply)
    is a 400 from here, before Litestar's decoder would raise it as an unexpected error; one that is JSON but
    does not fit is a 422 naming the first field that does not (orders_service.infra.invalid_field).
    """
    if request.method in _NO_BODY:
        return
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return
    body = await request.body()
    if not body.strip():
        if field.has_default:
            return  # confirm and cancel: no body is a valid one
        raise InvalidBody(BODY, "send a JSON object in the request body", malformed=True)
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        _malformed(str(error))
    except UnicodeDecodeError:
        _malformed("the request body is not valid UTF-8 JSON")
    except RecursionError:
        _malformed("nested too deeply")
    invalid = first_invalid(decoded, field.annotation)
    if invalid is not None:
        raise InvalidBody(invalid.field or BODY, invalid.message)
