"""CPU use of the bench process, the server process and the whole machine, read from /proc."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CpuSample:
    wall: float
    bench: float
    server: float | None
    system_busy: float | None
    system_total: float | None


def _proc_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _system_cpu() -> tuple[float, float] | tuple[None, None]:
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None, None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return float(total - idle), float(total)


def cpu_sample(server_pid: int | None) -> CpuSample:
    times = os.times()
    busy, total = _system_cpu()
    server = None if server_pid is None else _proc_cpu_seconds(server_pid)
    return CpuSample(time.perf_counter(), times.user + times.system, server, busy, total)


def cpu_use(a: CpuSample, b: CpuSample, *, server_seconds: bool = False) -> dict[str, float | None]:
    """Processes in % of one core, the whole machine in % of all cores, and (server_seconds) the server's CPU
    seconds."""
    wall = max(b.wall - a.wall, 1e-9)
    server_s = None if a.server is None or b.server is None else b.server - a.server
    system = None
    if a.system_busy is not None and b.system_busy is not None and a.system_total is not None and b.system_total:
        system = round(100 * (b.system_busy - a.system_busy) / max(b.system_total - a.system_total, 1e-9), 1)
    use: dict[str, float | None] = {
        "bench_process_pct": round(100 * (b.bench - a.bench) / wall, 1),
        "server_process_pct": None if server_s is None else round(100 * server_s / wall, 1),
    }
    if server_seconds:
        use["server_cpu_s"] = None if server_s is None else round(server_s, 3)
    use["system_pct"] = system
    return use


async def background_cpu(seconds: float = 1.0) -> float | None:
    """How busy the whole machine is (% of all CPUs) while the bench itself idles."""
    before = cpu_sample(None)
    await asyncio.sleep(seconds)
    return cpu_use(before, cpu_sample(None))["system_pct"]
