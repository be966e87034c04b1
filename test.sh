#!/usr/bin/env bash
# Runs every test against real servers: installs what is missing (PostgreSQL, Redis, Chromium),
# starts PostgreSQL and Redis on free loopback ports in a temp folder, runs the solution's tests
# with TRX results, stops the servers even on failure, and prints "N passed, N failed" last.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Sync]
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} …"
  if [ "$(id -u)" -ne 0 ]; then echo "Missing ${need[*]}; run as root or install them." >&2; exit 2; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || { echo "apt-get install failed" >&2; exit 2; }
fi
command -v npm >/dev/null || { echo "Node.js with npm is required for the front-end build" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

RUN=$(mktemp -d /tmp/aggregator-test.XXXXXX)
chmod 755 "$RUN"
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
PGBIN=/usr/lib/postgresql/15/bin

cleanup() {
  [ -f "$RUN/pg/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$RUN/redis.pid" ] && kill "$(cat "$RUN/redis.pid")" 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT INT TERM

mkdir -p "$RUN/pg" "$RUN/sock" && chown -R postgres:postgres "$RUN/pg" "$RUN/sock"
runuser -u postgres -- "$PGBIN/initdb" -D "$RUN/pg" -U postgres -A trust -E UTF8 >/dev/null || { echo "initdb failed" >&2; exit 2; }
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg" -l "$RUN/sock/pg.log" \
  -o "-p $PG_PORT -k $RUN/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  -w start >/dev/null || { cat "$RUN/sock/pg.log" >&2; exit 2; }
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
  --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" >/dev/null || { echo "redis failed" >&2; exit 2; }

export AGG_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Include Error Detail=true"
export AGG_TEST_REDIS="127.0.0.1:$REDIS_PORT"
export AGG_CHROMIUM=/usr/bin/chromium
echo "PostgreSQL on $PG_PORT, Redis on $REDIS_PORT"

RESULTS="$ROOT/TestResults"
rm -rf "$RESULTS"
dotnet test Aggregator.sln --logger "trx" --results-directory "$RESULTS" "$@"
status=$?

python3 - "$RESULTS" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = 0
for f in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    for r in ET.parse(f).getroot().iterfind(".//t:UnitTestResult", ns):
        outcome = r.get("outcome")
        if outcome == "Passed": passed += 1
        elif outcome in ("Failed", "Error", "Timeout", "Aborted"): failed += 1
print(f"{passed} passed, {failed} failed")
PY
[ $status -eq 0 ] || exit $status
