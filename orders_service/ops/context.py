"""The ids a log line carries: the request, the order and the Celery task being worked on, per task of work.

Context variables follow an asyncio task and the code it awaits, so a line logged deep in a service still
says which request (or which Celery task, and which order) it belongs to.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
order_id: ContextVar[str | None] = ContextVar("order_id", default=None)
task_id: ContextVar[str | None] = ContextVar("task_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept only if it is short and plain: it is echoed in a header and written to every line.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SCOPE_KEY = "orders_service.request_id"


def request_id_of(scope: Any) -> str:
    """The request's id: the caller's `X-Request-ID` when acceptable, else a new one; the same all request long."""
    found = scope.get(_SCOPE_KEY)
    if found is None:
        given = next(
            (value.decode("latin-1") for name, value in scope.get("headers", ()) if name == REQUEST_ID_HEADER.encode()),
            "",
        ).strip()
        found = given if _ACCEPTABLE.match(given) else uuid.uuid4().hex
        scope[_SCOPE_KEY] = found
    return str(found)
