#!/usr/bin/env bash
# The whole stack on this machine without Docker: PostgreSQL and Redis from Debian's packages (on their own
# ports, apart from the test servers), the migrations, the sandbox courier, 2 API processes, Celery workers,
# beat and, if installed, Flower. Pid files and logs under $STACK_DIR. Idempotent: `up` starts only what is
# not running (so it also restarts what died).
#
# Usage: deploy/stack.sh up|down|status|env
# Env:   STACK_DIR (/tmp/orders-service-stack), API_PORTS ("8001 8002"), WORKERS (2), SANDBOX_PORT (8090),
#        FLOWER (1 to start Flower if installed), FLOWER_PORT (5555), STACK_PG_PORT (54339),
#        STACK_REDIS_PORT (56389), STACK_PG_DIR and STACK_REDIS_DIR (postgres.sh's and redis.sh's defaults),
#        STACK_DB (orders_stack), STACK_QUEUE (orders-stack), STACK_PUBLIC_URL (http://127.0.0.1:<first API
#        port>: the address customers' links and the sandbox's webhooks use, e.g. a load balancer's),
#        STACK_PG_URL and STACK_REDIS_URL (servers to use instead of starting its own: the stack makes its
#        database STACK_DB there and never starts or stops them), VENV (.venv)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STACK_DIR="${STACK_DIR:-/tmp/orders-service-stack}"
API_PORTS="${API_PORTS:-8001 8002}"
WORKERS="${WORKERS:-2}"
SANDBOX_PORT="${SANDBOX_PORT:-8090}"
FLOWER="${FLOWER:-0}"
FLOWER_PORT="${FLOWER_PORT:-5555}"
export PG_PORT="${STACK_PG_PORT:-54339}" REDIS_PORT="${STACK_REDIS_PORT:-56389}"
if [ -n "${STACK_PG_DIR:-}" ]; then export PG_DIR="$STACK_PG_DIR"; fi
if [ -n "${STACK_REDIS_DIR:-}" ]; then export REDIS_DIR="$STACK_REDIS_DIR"; fi
BIN="$ROOT/${VENV:-.venv}/bin"
PIDS="$STACK_DIR/pids"
LOGS="$STACK_DIR/logs"
DB_NAME="${STACK_DB:-orders_stack}"
QUEUE="${STACK_QUEUE:-orders-stack}"
PG_URL="${STACK_PG_URL:-}"
REDIS_URL="${STACK_REDIS_URL:-}"
[[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "STACK_DB: lower-case letters, digits and _ only" >&2; exit 2; }
[[ "$QUEUE" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "STACK_QUEUE: letters, digits, . _ - only" >&2; exit 2; }

first_port() { set -- $API_PORTS; echo "$1"; }

make_env() {
  # Written at each `up` from the settings above; the sandbox courier's token and webhook secret are made once
  # and kept, since they must not change between restarts.
  local env_file="$STACK_DIR/env" token="" secret=""
  if [ -f "$env_file" ]; then
    token=$(sed -n 's/^ORDERS_SANDBOX_TOKEN=//p' "$env_file")
    secret=$(sed -n 's/^ORDERS_SANDBOX_WEBHOOK_SECRET=//p' "$env_file")
  fi
  if [ -z "$token" ] || [ -z "$secret" ]; then
    read -r token secret < <("$BIN/python" -c 'import secrets; from couriers.sandbox.adapter import new_webhook_secret as w; print(secrets.token_urlsafe(24), w())')
  fi
  local public="${STACK_PUBLIC_URL:-http://127.0.0.1:$(first_port)}"
  cat > "$env_file.new" <<EOF
DATABASE_URL=$1
ORDERS_RELAY=celery
ORDERS_BROKER_URL=$2
ORDERS_CELERY_QUEUE=$QUEUE
ORDERS_DATA_DIR=$STACK_DIR/data
ORDERS_LOG_FORMAT=json
ORDERS_PUBLIC_BASE_URL=$public
ORDERS_SANDBOX_BASE_URL=http://127.0.0.1:$SANDBOX_PORT/sandbox-courier
ORDERS_SANDBOX_WEBHOOK_URL=$public/webhooks/couriers/sandbox
ORDERS_SANDBOX_TOKEN=$token
ORDERS_SANDBOX_WEBHOOK_SECRET=$secret
PROMETHEUS_MULTIPROC_DIR=$STACK_DIR/metrics
EOF
  mv "$env_file.new" "$env_file"
}

create_database() {
  # Database $2 on the server of URL $1, made unless it exists; prints its URL.
  "$BIN/python" - "$1" "$2" <<'EOF'
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

async def main(url: str, name: str) -> None:
    engine = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            if not await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                await conn.execute(text(f'CREATE DATABASE "{name}"'))  # stack.sh checked the name: [a-z0-9_]
    finally:
        await engine.dispose()
    print(make_url(url).set(database=name).render_as_string(hide_password=False))

asyncio.run(main(sys.argv[1], sys.argv[2]))
EOF
}

alive() {  # running, and not a zombie waiting for a parent that is gone to reap it
  [ -f "$PIDS/$1.pid" ] || return 1
  local state; state=$(ps -o stat= -p "$(cat "$PIDS/$1.pid")" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

start() {  # start NAME COMMAND...: in its own session (so `down` stops its children too), unless running
  local name=$1; shift
  if alive "$name"; then echo "  $name: running (pid $(cat "$PIDS/$name.pid"))"; return; fi
  (set -a; . "$STACK_DIR/env"; set +a; exec setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null) &
  echo $! > "$PIDS/$name.pid"
  echo "  $name: started (pid $!, log $LOGS/$name.log)"
}

wait_ready() {
  local url=$1
  for _ in $(seq 1 120); do curl -sf "$url" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "not ready: $url (see $LOGS)" >&2; return 1
}

up() {
  [ -x "$BIN/orders-service" ] || ./dev setup
  mkdir -p "$PIDS" "$LOGS" "$STACK_DIR/data" "$STACK_DIR/metrics"
  local pg="$PG_URL" redis="$REDIS_URL"
  if [ -z "$pg" ]; then pg=$(deploy/postgres.sh start); echo "PostgreSQL on 127.0.0.1:$PG_PORT"
  else echo "PostgreSQL given (STACK_PG_URL): not started or stopped here"; fi
  if [ -z "$redis" ]; then redis=$(deploy/redis.sh start); echo "Redis on 127.0.0.1:$REDIS_PORT"
  else echo "Redis given (STACK_REDIS_URL): not started or stopped here"; fi
  local database; database=$(create_database "$pg" "$DB_NAME")
  make_env "$database" "$redis"
  local running=0; for f in "$PIDS"/*.pid; do [ -f "$f" ] && alive "$(basename "$f" .pid)" && running=1; done
  if [ "$running" = 0 ]; then
    rm -f "$STACK_DIR"/metrics/*.db  # counters of processes gone for good: Prometheus sees a reset
    (set -a; . "$STACK_DIR/env"; set +a; "$BIN/orders-service" migrate) >>"$LOGS/migrate.log" 2>&1
    echo "  migrate: done (log $LOGS/migrate.log)"
  fi
  start sandbox "$BIN/orders-service" sandbox-courier --port "$SANDBOX_PORT"
  for port in $API_PORTS; do start "api-$port" "$BIN/orders-service" serve --no-migrate --port "$port"; done
  for i in $(seq 1 "$WORKERS"); do
    start "worker-$i" "$BIN/orders-service" worker --concurrency 1 --name "worker-$i" --loglevel INFO
  done
  start beat "$BIN/orders-service" beat --loglevel INFO
  if [ "$FLOWER" = 1 ] && [ -x "$BIN/celery" ] && "$BIN/python" -c 'import flower' 2>/dev/null; then
    start flower "$BIN/celery" -A orders_service.relay.celery_app flower --port="$FLOWER_PORT" --address=127.0.0.1
  fi
  wait_ready "http://127.0.0.1:$SANDBOX_PORT/sandbox-courier/schema/openapi.json"
  for port in $API_PORTS; do wait_ready "http://127.0.0.1:$port/ready"; done
  status
}

stop_one() {
  local name=$1 pid; pid=$(cat "$PIDS/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
  echo "  $name: stopped"
}

down() {
  [ -d "$PIDS" ] || { echo "nothing to stop"; return; }
  # Producers first (the API), then the workers that drain what they queued.
  for f in "$PIDS"/api-*.pid "$PIDS"/*.pid; do [ -f "$f" ] && stop_one "$(basename "$f" .pid)"; done
  if [ -z "$PG_URL$REDIS_URL" ]; then
    echo "PostgreSQL ($PG_PORT) and Redis ($REDIS_PORT) keep running: deploy/postgres.sh stop, deploy/redis.sh stop"
  fi
}

status() {
  local failed=0
  for f in "$PIDS"/*.pid; do
    [ -f "$f" ] || continue
    local name; name=$(basename "$f" .pid)
    if alive "$name"; then echo "  $name: up (pid $(cat "$f"))"; else echo "  $name: DOWN"; failed=1; fi
  done
  for port in $API_PORTS; do
    echo "  http://127.0.0.1:$port/ready -> $(curl -s -m 5 "http://127.0.0.1:$port/ready" || echo 'no answer')"
  done
  return $failed
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) cat "$STACK_DIR/env" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
