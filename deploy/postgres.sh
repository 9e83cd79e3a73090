#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL on loopback from Debian's packages, for tests, benches and
# running without Docker. Usage: deploy/postgres.sh start|stop|url   (env: PG_PORT, PG_DIR)
set -euo pipefail
PG_PORT="${PG_PORT:-54329}"
PG_DIR="${PG_DIR:-/tmp/orders-service-pg-$PG_PORT}"
PG_USER_DB="orders"
URL="postgresql+asyncpg://$PG_USER_DB@127.0.0.1:$PG_PORT/$PG_USER_DB"

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ] || [ ! -x "$found/postgres" ]; then
    echo "installing PostgreSQL from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

as_pg() {
  # PostgreSQL refuses to run as root; Debian's package creates the postgres user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin; bin=$(pg_bin)
  if [ -f "$PG_DIR/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    echo "$URL"; return
  fi
  if [ ! -f "$PG_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
    as_pg "$bin/initdb" -D "$PG_DIR" -U "$PG_USER_DB" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    {
      echo "listen_addresses = '127.0.0.1'"; echo "port = $PG_PORT"; echo "unix_socket_directories = '$PG_DIR'"
      echo "max_connections = 200"; echo "shared_buffers = 256MB"; echo "fsync = on"
    } >> "$PG_DIR/postgresql.conf"
  fi
  as_pg "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER_DB" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='$PG_USER_DB'" | grep -q 1 || \
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER_DB" "$PG_USER_DB"
  echo "$URL"
}

stop() {
  local bin; bin=$(pg_bin)
  [ -f "$PG_DIR/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
