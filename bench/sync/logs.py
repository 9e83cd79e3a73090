"""The server's log: warnings, errors, exception lines and the relay's courier calls; server timestamps."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from pathlib import Path
from typing import Any


def parse_time(text: str) -> float:
    """An ISO 8601 timestamp from the server (UTC, 'Z') as seconds since the epoch, the clock time.time() reads."""
    return datetime.datetime.fromisoformat(text).timestamp()


_LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) - \S+ \S+ - ([\w.]+) - \S+ - (.*)$")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\b.*")
_COURIER_CALL = re.compile(r"HTTP Request: (\w+) http://sandbox\.internal/(\w+)(/[^/\s\"]+)?(/\w+)?")


def read_server_log(log: Path, start: int = 0) -> tuple[dict[str, Any], int]:
    """What the server logged from byte `start` on: warnings and errors (with samples), exception lines, and the
    relay's courier calls (the adapter's httpx logs one INFO line per request). Returns it and the end offset."""
    try:
        with log.open("rb") as handle:
            handle.seek(start)
            data = handle.read()
    except OSError:
        return {}, start
    levels: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    samples: list[str] = []
    for line in data.decode(errors="replace").splitlines():
        if match := _LOG_LINE.match(line):
            level, logger, message = match.groups()
            if level in ("WARNING", "ERROR", "CRITICAL"):
                levels[f"{level} {logger}"] += 1
                if len(samples) < 8:
                    samples.append(line[:300])
            if (call := _COURIER_CALL.search(message)) is not None:
                method, resource, code, action = call.groups()
                calls[f"{method} /{resource}{'/{code}' if code else ''}{action or ''}"] += 1
        elif _EXCEPTION_LINE.match(line):
            exceptions[line[:300]] += 1
    found: dict[str, Any] = {"courier_calls_logged": dict(calls)}
    if levels:
        found["warnings_and_errors"], found["samples"] = dict(levels), samples
    if exceptions:
        found["exception_lines"] = dict(exceptions.most_common(10))
    return found, start + len(data)
