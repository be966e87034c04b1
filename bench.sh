#!/usr/bin/env bash
# Runs a benchmark against real PostgreSQL and Redis started like the tests' ones.
# Usage: ./bench.sh sync | router | catalog   (see README "Benchmarks")
set -uo pipefail
cd "$(dirname "$0")"
. scripts/servers.sh
install_missing || exit 2
trap stop_servers EXIT INT TERM
start_servers || exit 2
dotnet run -c Release --project tools/Aggregator.Benchmarks -- "$@"
