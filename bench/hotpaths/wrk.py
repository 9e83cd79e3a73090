"""One wrk run over a file of prepared requests (requests.lua), with the server's CPU sampled around it."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

from amend.wrk import wrk_path
from benchlib.cpu import CpuSample, cpu_sample, cpu_use
from benchlib.servers import REQUEST_TIMEOUT

LUA = Path(__file__).resolve().parent / "requests.lua"
RESULT = "HOTPATH_RESULT "


def line(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> str:
    """One request in requests.lua's format: tab-separated method, path, body (or -), header name/value pairs."""
    text = "-" if body is None else body.decode()
    fields = [method, path, text, *(item for pair in (headers or {}).items() for item in pair)]
    if any("\t" in f or "\n" in f for f in fields):
        raise ValueError(f"a request field holds a tab or a newline: {fields!r}")
    return "\t".join(fields) + "\n"


async def _watch(proc: asyncio.subprocess.Process, threads: int, server_pid: int) -> tuple[bytes, CpuSample | None]:
    """wrk's stderr; with `threads`, SIGINT to wrk (it then prints its summary) once that many threads said
    they are done, and the CPU sample taken at that moment."""
    assert proc.stderr is not None
    err, done, finished = b"", 0, None
    while chunk := await proc.stderr.readline():
        err += chunk
        if threads and chunk.startswith(b"HOTPATH_THREAD_DONE"):
            done += 1
            if done == threads:
                finished = cpu_sample(server_pid)
                proc.send_signal(signal.SIGINT)
    return err, finished


async def measure(
    name: str, base_url: str, requests: list[str], mode: str, seconds: float, concurrency: int, pid: int, work: Path
) -> dict[str, Any]:
    """Run wrk (cycle: for `seconds`; once: until every request was sent once) and summarise the run."""
    if mode == "once" and len(requests) < concurrency:
        raise RuntimeError(f"{name}: {len(requests)} requests cannot keep {concurrency} connections busy")
    path = work / f"{name}.requests"
    path.write_text("".join(requests))
    limit = seconds if mode == "cycle" else max(seconds * 20, 60.0)  # once: wrk stops when the list is spent
    argv = [
        wrk_path(), "-t", str(concurrency), "-c", str(concurrency), "-d", f"{max(1, round(limit))}s",
        "--timeout", f"{REQUEST_TIMEOUT:g}s", "-s", str(LUA), base_url, "--", str(path), mode, str(concurrency),
    ]  # fmt: skip
    before, started = cpu_sample(pid), time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True
    )
    try:
        err, finished = await asyncio.wait_for(_watch(proc, concurrency if mode == "once" else 0, pid), limit + 60)
        out = await asyncio.wait_for(proc.stdout.read(), timeout=30) if proc.stdout else b""
        await asyncio.wait_for(proc.wait(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    wall = time.perf_counter() - started
    cpu = cpu_use(before, finished or cpu_sample(pid), server_seconds=True)
    found = [x for x in out.decode().splitlines() if x.startswith(RESULT)]
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed for {name} ({proc.returncode}): {err.decode(errors='replace')[-1500:]}")
    result = json.loads(found[-1][len(RESULT) :])
    ok = int(result["ok"])
    # once: from wrk's start to the last thread's last answer (wrk's own duration is its whole -d).
    duration = max((finished.wall - before.wall) if finished else result["duration_us"] / 1e6, 1e-9)
    server_s = cpu["server_cpu_s"]
    return {
        "path": name,
        "mode": mode,
        "ok": ok,
        "failed": int(result["failed"]) + int(result["socket_errors"]),
        "seconds": round(duration, 3),
        "rate": round(ok / duration, 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "cpu_ms_per_request": None if server_s is None or not ok else round(1000 * server_s / ok, 2),
        "server_process_pct": cpu["server_process_pct"],
        "wall_s": round(wall, 2),
        "samples": [x[:300] for x in err.decode(errors="replace").splitlines() if "answered" in x][:3],
    }
