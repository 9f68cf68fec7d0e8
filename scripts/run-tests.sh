#!/usr/bin/env bash
# Run the whole suite on SQLite, then again on a throwaway PostgreSQL server.
#
# PostgreSQL comes from Debian's packages (installed if missing), runs as the
# "postgres" user (initdb refuses root) with a data directory in /tmp, listens
# on a loopback port only, and is stopped and deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest
postgres_only=0
[ "${1:-}" = "--postgres-only" ] && { postgres_only=1; shift; }

if [ "$postgres_only" = 0 ]; then
  echo "=== Test suite on SQLite ==="
  "$PYTEST" -q -p no:cacheprovider "$@"
fi

find_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
PG_BIN=$(find_pg_bin)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "=== Installing PostgreSQL from Debian's packages ==="
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(find_pg_bin)
fi

PG_DIR=$(mktemp -d /tmp/vp-pgtest.XXXXXX)
PG_PORT=${PG_TEST_PORT:-$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$PG_DIR"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres vp_test

echo "=== Test suite on PostgreSQL ($("$PG_BIN/postgres" --version), port $PG_PORT) ==="
# The browser tests ran on SQLite above: they test pages, not the database.
TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/vp_test" \
  "$PYTEST" -q -p no:cacheprovider -m "not browser" "$@"
