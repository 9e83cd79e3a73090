"""Statistics, versions, machine description and the JSON results file."""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1], 3)


def distribution(values: Sequence[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": round(ordered[-1], 3) if ordered else None,
        "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
    }


def versions(packages: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["uvicorn_loop"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    found["uvicorn_http"] = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return found


def machine() -> dict[str, Any]:
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "usable_cpus": affinity, "cpu_model": model, "platform": platform.platform()}


def write_report(results_dir: Path, prefix: str, started: datetime.datetime, report: dict[str, Any]) -> Path:
    """Write report to <results_dir>/<prefix>-<timestamp>.json."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{prefix}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path
