"""The markdown table and the latency plot of a scale run."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from benchlib.results import percentile


def per_op(history: list[dict[str, Any]], seconds: float) -> dict[str, dict[str, Any]]:
    by_op: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in history:
        by_op[r["op"]].append(r)
    out = {}
    for op, rs in sorted(by_op.items()):
        ok = sorted(r["latency_ms"] for r in rs if 200 <= r["status"] < 400)
        out[op] = {
            "count": len(rs),
            "ok": len(ok),
            "errors": sum(1 for r in rs if r["status"] >= 500 or r["status"] <= 0),
            "refused_4xx": sum(1 for r in rs if 400 <= r["status"] < 500),
            "ok_per_s": round(len(ok) / seconds, 2),
            "p50_ms": percentile(ok, 50),
            "p99_ms": percentile(ok, 99),
        }
    return out


def markdown(runs: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, run in runs.items():
        lines += [f"### {name}", "", "| operation | sent | 2xx/3xx | 4xx | 5xx/none | ok/s | p50 ms | p99 ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for op, s in run["operations"].items():
            lines.append(f"| {op} | {s['count']} | {s['ok']} | {s['refused_4xx']} | {s['errors']} | {s['ok_per_s']} "
                         f"| {s['p50_ms']} | {s['p99_ms']} |")  # fmt: skip
        lag = run["outbox"]
        lines += ["", f"Outbox: most depth {lag['max_depth']}, oldest message at most {lag['max_oldest_age_s']} s old "
                      f"during the run; drained {lag['drained']} {lag['drain_s']} s after the load.", ""]  # fmt: skip
        if run.get("balancer"):
            lb = run["balancer"]
            lines += [f"Load balancer :{lb['port']} ({lb['unserved']} connections no API process accepted):", "",
                      "| API port | connections served | connects failed over | closed before answering |",
                      "|---:|---:|---:|---:|"]  # fmt: skip
            for port, b in lb["backends"].items():
                lines.append(f"| {port} | {b['served']} | {b['failed_over']} | {b['broken']} |")
            lines.append("")
        if run["faults"]:
            lines += ["| fault | at s | injected s | back s | outbox: oldest message till next fault | note | error |",
                      "|---|---:|---:|---:|---:|---|---|"]  # fmt: skip
            starts = [f["injected_at"] for f in run["faults"]]
            for i, f in enumerate(run["faults"]):
                until = next((t for t in starts[i + 1 :] if t is not None), None)
                oldest = _oldest_after(lag.get("samples", []), f["injected_at"], until)
                note = f"{f['detail']['claimed_at_kill']} messages claimed when killed" if "claimed_at_kill" in f.get(
                    "detail", {}) else ""  # fmt: skip
                lines.append(f"| {f['name']} | {f['at']} | {f['injected_at']} | {f['healed_at']} | {oldest} | {note} "
                             f"| {f['error'] or ''} |")  # fmt: skip
            lines.append("")
        lines += ["| invariant | held | checked | violations | example |", "|---|---|---:|---:|---|"]
        for inv, r in run["invariants"].items():
            example = (r["examples"][0] if r["examples"] else "").replace("|", "/")
            lines.append(
                f"| {inv} | {'yes' if r['held'] else '**NO**'} | {r['checked']} | {r['violations']} | {example} |"
            )
        lines.append("")
    return "\n".join(lines)


def _oldest_after(samples: list[dict[str, float]], start: float | None, until: float | None) -> str:
    """The outbox's oldest unprocessed message at its oldest, sampled after a fault until the next one (or for
    45 s): how long the fault held messages up."""
    if start is None:
        return ""
    end = until if until is not None else start + 45.0
    ages = [x["oldest_age_s"] for x in samples if start <= x["t"] < end and x["oldest_age_s"] >= 0]
    return f"{max(ages):.1f} s" if ages else ""


def plot(runs: dict[str, dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 1, figsize=(12, 4.5 * len(runs)), squeeze=False)
    for ax, (name, run) in zip(axes[:, 0], runs.items(), strict=True):
        by_op: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in run["history"]:
            by_op[r["op"]].append(r)
        for op, rs in sorted(by_op.items()):
            ax.scatter([r["start"] for r in rs], [max(r["latency_ms"], 0.1) for r in rs], s=8, label=op,
                       marker="x" if op.startswith("courier") else "o")  # fmt: skip
        bad = [r for r in run["history"] if r["status"] >= 500 or r["status"] == 0]
        if bad:
            ax.scatter([r["start"] for r in bad], [max(r["latency_ms"], 0.1) for r in bad], s=30, facecolors="none",
                       edgecolors="red", label="5xx / no answer")  # fmt: skip
        for f in run["faults"]:
            if f["injected_at"] is not None:
                ax.axvline(f["injected_at"], color="red", linestyle="--", linewidth=1)
                ax.text(f["injected_at"], 1.02, f["name"], rotation=20, transform=ax.get_xaxis_transform(), fontsize=8)
            if f["healed_at"] is not None:
                ax.axvline(f["healed_at"], color="green", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("seconds since the load started")
        ax.set_ylabel("latency ms")
        ax.set_title(name, pad=24)
        ax.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
