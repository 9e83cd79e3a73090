#!/usr/bin/env bash
# A newcomer's first and second `./dev serve`: a fresh clone of this checkout's HEAD, an empty uv cache and no pip
# cache, timed from the command to the first /health 200, twice; then `du -sh .venv` (runtime only).
# Usage: bench/serve_start.sh [DIR]   (DIR, default a new temporary folder, is removed first)
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$(mktemp -d)/orders-service}"
rm -rf "$DIR" && git clone -q "$SRC" "$DIR" && cd "$DIR"
UV_CACHE_DIR="$(mktemp -d)"
export UV_CACHE_DIR PIP_NO_CACHE_DIR=1
trap 'rm -rf "$UV_CACHE_DIR"' EXIT
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
for run in first second; do
  start="$(date +%s.%N)"
  setsid ./dev serve --port "$PORT" >"serve-$run.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/health"; do
    sleep 0.05
    kill -0 "$pid" 2>/dev/null || { echo "serve stopped:" >&2; cat "serve-$run.log" >&2; exit 1; }
  done
  end="$(date +%s.%N)"
  cpu="$(awk '{printf "%.1f", ($14 + $15 + $16 + $17) / 100}' "/proc/$pid/stat")"
  printf '%s ./dev serve: %.1f s to /health 200 (CPU of ./dev and its children %s s, load %s)\n' \
    "$run" "$(echo "$end - $start" | bc)" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
  kill -- -"$pid" && wait "$pid" 2>/dev/null || true
done
echo "du -sh .venv (runtime only): $(du -sh .venv | cut -f1)"
