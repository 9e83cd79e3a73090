#!/usr/bin/env bash
# Start or stop a throwaway Redis on loopback from Debian's packages (the Celery broker for CI and
# for running without Docker). Usage: deploy/redis.sh start|stop|url   (env: REDIS_PORT, REDIS_DIR)
set -euo pipefail
REDIS_PORT="${REDIS_PORT:-56379}"
REDIS_DIR="${REDIS_DIR:-/tmp/orders-service-redis-$REDIS_PORT}"
URL="redis://127.0.0.1:$REDIS_PORT/0"

server() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing Redis from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2
  fi
  command -v redis-server
}

start() {
  local bin; bin=$(server)
  mkdir -p "$REDIS_DIR"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then echo "$URL"; return; fi
  "$bin" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --appendonly yes --save "" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "$URL"
}

stop() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
