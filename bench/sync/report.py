"""The printed tables and the list of failures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PACKAGES = ("orders-service", "litestar", "sqlalchemy", "advanced-alchemy", "msgspec", "uvicorn", "httpx",
            "aiosqlite", "asyncpg")  # fmt: skip


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    lines = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(c.ljust(widths[i]) if i < left else c.rjust(widths[i]) for i, c in enumerate(line)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render(report: dict[str, Any]) -> str:
    out: list[str] = []
    for rnd in report["result"].get("rounds", []):
        delay = f"courier delay {rnd['delay_ms']} ms" + (
            f" ± {rnd['delay_jitter_ms']} ms" if rnd.get("delay_jitter_ms") else ""
        )
        relay = rnd.get("relay")
        if relay:
            rows = [(
                "relay: ship -> synced", str(relay["synced"]), _f(relay["seconds_to_all_synced"], 2),
                _f(relay["creates_per_s"]), _f(relay["create_lag_ms"]["p50"], 0), _f(relay["create_lag_ms"]["p99"], 0),
                str(sum(relay["errors"].values())), _f(relay["cpu"]["server_process_pct"], 0),
                _f(relay["server_cpu_ms_per_create"], 2),
            ), (
                "  relay alone, after last ship", str(relay["creates_after_last_ship"]),
                _f(relay["drain_seconds_after_last_ship"], 2), _f(relay["creates_per_s_after_last_ship"]), "", "", "",
                _f(relay["cpu_after_last_ship"]["server_process_pct"], 0),
                _f(relay["server_cpu_ms_per_create_after_ship"], 2),
            )]  # fmt: skip
            for raw in rnd.get("raw", []):
                lat = raw["latency_ms"]
                rows.append((
                    raw["mode"], str(raw["creates"]), _f(raw["seconds"], 2), _f(raw["creates_per_s"]),
                    _f(lat["p50"], 1), _f(lat["p99"], 1), str(sum(raw["errors"].values())),
                    _f(raw["cpu"]["server_process_pct"], 0), _f(raw["server_cpu_ms_per_create"], 2),
                ))  # fmt: skip
            header = ("courier creates, " + delay, "creates", "seconds", "creates/s", "p50 ms", "p99 ms", "errors",
                      "server %", "srv CPU ms/create")  # fmt: skip
            out += [table(header, rows), ""]
            ratios = "   ".join(f"sync/raw(c={k.rsplit('c', 1)[1]}) = {_f(v, 3)}" for k, v in rnd["ratios"].items())
            out.append(f"  {ratios}")
            out.append(f"  ship: {relay['ship_seconds']:.2f} s for {relay['orders']} orders; all synced "
                       f"{relay['drain_seconds_after_last_ship']:.2f} s after the last ship answered; "
                       f"courier calls {relay['courier_calls']}")  # fmt: skip
            if relay["errors"]:
                out.append(f"  ERRORS: {relay['errors']}")
            out.append("")
        if rnd.get("lag"):
            rows = []
            for lag in rnd["lag"]:
                d = lag["lag_ms"]
                kind = "single edits" if lag["burst"] == 1 else f"bursts of {lag['burst']}"
                rows.append((
                    f"{_f(lag['rate_per_s'], 0)}/s {_f(lag['seconds'], 0)} s, {kind}", str(lag["accepted"]),
                    str(lag["courier_update_calls"]), _f(lag["update_calls_per_amendment"], 2), _f(d["p50"], 0),
                    _f(d["p95"], 0), _f(d["p99"], 0), _f(d["max"], 0), _f(lag["drain_seconds_after_load"], 2),
                    str(sum(lag["errors"].values())), _f(lag["cpu"]["server_process_pct"], 0),
                ))  # fmt: skip
            header = ("sync lag, " + delay, "amended", "updates", "upd/amend", "lag p50", "p95", "p99", "max ms",
                      "drain s", "errors", "server %")  # fmt: skip
            out += [table(header, rows), ""]
            capacity = (rnd.get("relay") or {}).get("creates_per_s_after_last_ship")
            if capacity:
                out.append(f"  amendment rate = {100 * rnd['lag'][0]['rate_per_s'] / capacity:.0f}% of the relay's own "
                           f"create rate above ({capacity:.1f}/s; an update costs about as much)")  # fmt: skip
            for lag in rnd["lag"]:
                late = lag["schedule_late_ms"]["p99"]
                note = f"  {lag['label']}: amend p50/p99 {_f(lag['amend_latency_ms']['p50'], 0)}/" \
                       f"{_f(lag['amend_latency_ms']['p99'], 0)} ms; schedule late p99 {_f(late, 0)} ms; " \
                       f"synced before the 200 arrived: {lag['lag_synced_before_response']}"  # fmt: skip
                out.append(note)
                empty = lag["outbox_empty_seconds_after_load"]
                out.append(f"    outbox backlog max {_f(lag['outbox_backlog_max'])}, "
                           f"{lag['outbox_unprocessed_when_courier_caught_up']} rows left when the courier had "
                           f"caught up, empty {_f(empty, 2)} s after the load")  # fmt: skip
                if lag["errors"]:
                    out.append(f"    ERRORS: {lag['errors']}")
                    out += [f"    {s}" for s in lag["error_samples"][:3]]
            out.append("")
        box = rnd.get("outbox_after", {})
        out.append(f"  outbox after the round: {box.get('rows')} rows, {box.get('unprocessed')} unprocessed, "
                   f"{box.get('with_last_error')} with last_error, max attempts {box.get('max_attempts')}")  # fmt: skip
        for text, count in box.get("error_samples", {}).items():
            out.append(f"    {count}x {text}")
        log = rnd.get("server_log", {})
        for what, count in log.get("warnings_and_errors", {}).items():
            out.append(f"  server logged {count}x {what}")
        for line, count in log.get("exception_lines", {}).items():
            out.append(f"  server logged {count}x: {line[:200]}")
        out.append("")
    return "\n".join(out)


def failures(report: dict[str, Any]) -> list[str]:
    found = []
    for rnd in report["result"].get("rounds", []):
        if rnd.get("relay", {}).get("errors"):
            found.append(f"delay {rnd['delay_ms']}: relay {rnd['relay']['errors']}")
        for raw in rnd.get("raw", []):
            if raw["errors"]:
                found.append(f"delay {rnd['delay_ms']}: {raw['mode']} {raw['errors']}")
        for lag in rnd.get("lag", []):
            if lag["errors"]:
                found.append(f"delay {rnd['delay_ms']}: lag {lag['label']} {lag['errors']}")
        if rnd.get("outbox_after", {}).get("unprocessed"):
            found.append(f"delay {rnd['delay_ms']}: outbox has {rnd['outbox_after']['unprocessed']} unprocessed rows")
    return found
