"""The printed table of modes and the ratios HTTP/bare and HTTP/raw-SQL."""

from __future__ import annotations

from typing import Any

PACKAGES = ("litestar", "sqlalchemy", "advanced-alchemy", "msgspec", "uvicorn", "httpx", "aiosqlite", "asyncpg")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_table(rows: list[dict[str, Any]]) -> str:
    header = ("mode", "db", "amend/s", "p50 ms", "p99 ms", "ok", "errors", "bench %", "server %", "system %")
    lines = [header]
    for r in rows:
        lat, cpu = r["latency_ms"], r["cpu"]
        lines.append((
            r["mode"], r["db"] or "-", _fmt(r["amendments_per_s"]), _fmt(lat["p50"], 2), _fmt(lat["p99"], 2),
            str(r["ok"]), str(r["error_count"]), _fmt(cpu.get("bench_process_pct"), 0),
            _fmt(cpu.get("server_process_pct"), 0), _fmt(cpu.get("system_pct"), 0),
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        out.append("  ".join(cells))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render_ratios(report: dict[str, Any]) -> str:
    out = []
    for db, section in report["databases"].items():
        if "ratios" not in section:
            out.append(f"{db}: {section.get('skipped') or section.get('error')}")
            continue
        r = section["ratios"]
        out.append(
            f"{db}: HTTP/bare = {_fmt(r['http_over_bare'], 3)}   HTTP/raw-SQL = {_fmt(r['http_over_raw_sql'], 3)}"
        )
        check = section["sql_check"]
        if check["replayed"] == "capture":
            stale = "; the built-in list is out of date" if check["builtin_matches_capture"] is False else ""
            out.append(f"  raw-SQL replayed the {check['statements']} statements captured from the app{stale}")
        else:
            why = check.get("capture_error") or "; ".join(check.get("problems", []))
            out.append(f"  WARNING: raw-SQL used the built-in statements, not a capture of the app: {why[:500]}")
        server = section.get("server", {})
        if server.get("create_retries"):
            out.append(f"  setup: {server['create_retries']} order creations had to be retried")
        for line, count in server.get("server_exceptions", {}).items():
            out.append(f"  server logged {count}x: {line[:200]}")
    return "\n".join(out)
