"""The printed table of modes and the ratios HTTP/bare and HTTP/raw-SQL."""

from __future__ import annotations

from typing import Any

PACKAGES = ("litestar", "sqlalchemy", "advanced-alchemy", "msgspec", "uvicorn", "httpx", "aiosqlite", "asyncpg")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_table(rows: list[dict[str, Any]]) -> str:
    header = ("mode", "db", "amend/s", "p50 ms", "p99 ms", "ok", "errors", "CPU ms/amend", "client %", "server %",
              "system %")  # fmt: skip
    lines = [header]
    for r in rows:
        lat, cpu = r["latency_ms"], r["cpu"]
        client = cpu.get("client_process_pct", cpu.get("bench_process_pct"))
        lines.append((
            r["mode"], r["db"] or "-", _fmt(r["amendments_per_s"]), _fmt(lat["p50"], 2), _fmt(lat["p99"], 2),
            str(r["ok"]), str(r["error_count"]), _fmt(r.get("cpu_ms_per_amendment"), 2), _fmt(client, 0),
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


def idle_modes(rows: list[dict[str, Any]]) -> list[str]:
    """The modes that completed no amendment: a ratio against one of them would print "-", and a baseline that
    measures nothing (as a deadlocked raw-SQL pool did) must fail the run, not pass unnoticed."""
    return [f"{r['mode']} ({r['db'] or 'no database'})" for r in rows if not r["ok"]]


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
        if r.get("open_loop_p99_over_p50") is not None:
            ratio = _fmt(r["open_loop_p99_over_p50"], 2)
            out.append(f"  open loop at {_fmt(r['open_loop_rate'])}/s: p99/p50 = {ratio}")
            relay = section.get("server", {}).get("relay") or {}
            if relay.get("before_open_loop") is not None:
                out.append(f"  the relay's outbox: {relay['before_open_loop']} messages after the closed loop, "
                           f"{relay['at_open_loop_start']} when the open loop started ({relay['waited_s']} s "
                           f"later), {relay.get('after_open_loop')} when it ended")  # fmt: skip
        check = section["sql_check"]
        if check.get("error"):
            out.append(f"  FAILED: no raw-SQL baseline, the app's SQL cannot be replayed: {check['error'][:800]}")
            continue
        out.append(f"  raw-SQL replayed the {check['statements']} statements captured from the app "
                   f"(outbox rows: {', '.join(check['outbox_topics'])})")  # fmt: skip
        server = section.get("server", {})
        if server.get("create_retries"):
            out.append(f"  setup: {server['create_retries']} order creations had to be retried")
        for line, count in server.get("server_exceptions", {}).items():
            out.append(f"  server logged {count}x: {line[:200]}")
    return "\n".join(out)
