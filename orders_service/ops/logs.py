"""Logging for the API, workers and beat: one JSON object per line (or plain text), never a token or a phone.

`ORDERS_LOG_FORMAT=json|text` chooses the format (json by default when stderr is not a terminal). Every
handler gets `RedactFilter`, and the JSON formatter redacts tracebacks as well, since an exception's text
can quote a request.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import msgspec

from orders_service.infra.redact import RedactFilter, redact
from orders_service.ops import context

# Servers' and libraries' loggers that keep their own handlers unless told otherwise. Not uvicorn.access:
# the app writes its own access line, with the request id, and `serve` turns uvicorn's off.
_PROPAGATE = ("uvicorn", "uvicorn.error", "celery", "celery.worker", "celery.beat", "kombu")
_IDS = (("request_id", context.request_id), ("order_id", context.order_id), ("task_id", context.task_id))
_QUIET = {
    "alembic.runtime.plugins": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # Its debug lines quote every SQL statement with its parameters: tokens, phones, addresses.
    "aiosqlite": logging.WARNING,
}


class JsonFormatter(logging.Formatter):
    """ts, level, logger, message, and request_id, order_id, task_id when known; exc for a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in _IDS:
            value = var.get()
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        try:
            # msgspec: about a tenth of json.dumps's time, which builds a JSONEncoder per call (every access line).
            return msgspec.json.encode(line).decode()
        except UnicodeEncodeError:  # a lone surrogate (bytes decoded with surrogateescape): escaped as \udc80
            return json.dumps(line)


class TextFormatter(logging.Formatter):
    """The human format, with the ids in brackets when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{name}={var.get()}" for name, var in _IDS if var.get()]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        text = super().format(record)
        return redact(text) if record.exc_info else text


def handler_for(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactFilter())
    return handler


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Send every logger's records to one redacting handler on stderr, in `log_format`."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler_for(log_format))
    root.setLevel(level.upper())
    for name in _PROPAGATE:
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    # Neither format says where a line was logged from, nor its thread or process: the logging HOWTO's
    # "Optimization" switches spare every record (an access line per request) the stack walk and those look-ups.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
