#!/usr/bin/env bash
# Runs every test against real servers: installs what is missing (PostgreSQL, Redis, Chromium),
# starts PostgreSQL and Redis on free loopback ports in a temp folder, runs the solution's tests
# with TRX results, stops the servers even on failure, and prints "N passed, N failed" last.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Sync]
set -uo pipefail
cd "$(dirname "$0")"
. scripts/servers.sh

install_missing --with-browser || exit 2
trap stop_servers EXIT INT TERM
start_servers || exit 2
export AGG_CHROMIUM=/usr/bin/chromium

RESULTS="$(pwd)/TestResults"
rm -rf "$RESULTS"
dotnet test Aggregator.sln --logger "trx" --results-directory "$RESULTS" "$@"
status=$?

# The closing line is counted from the TRX files, not from dotnet test's own summary.
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
exit $status
