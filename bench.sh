#!/usr/bin/env bash
# Runs a benchmark against real PostgreSQL and Redis started like the tests' ones.
# Usage: ./bench.sh sync | router | catalog   (see README "Benchmarks")
#        ./bench.sh gateway [--rounds 3] [--rate 500] [--gateway none | http://127.0.0.1:PORT --token agg-…]   (see docs/benchmarks.md)
#        ./bench.sh streams [--streams 1000] [--streams-two 2000] [--layouts one,two] [--arrival 10]   (see docs/benchmarks.md)
set -uo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = gateway ]; then
  # Mock, forwarder, load driver and the app itself (Release, a fresh embedded SQLite database): no servers to start.
  shift
  dotnet build -c Release -nologo -v q tools/Aggregator.GatewayBench || exit 2   # builds Aggregator.Web in Release too
  exec dotnet run -c Release --no-build --project tools/Aggregator.GatewayBench -- "$@"
fi
. scripts/servers.sh
install_missing || exit 2
trap stop_servers EXIT INT TERM
start_servers || exit 2
if [ "${1:-}" = streams ]; then
  # One node, then two behind nginx (deploy/nginx.conf.template), each from the Release build, on the servers above.
  shift
  dotnet build -c Release -nologo -v q tools/Aggregator.StreamBench || exit 2   # builds Aggregator.Web in Release too
  dotnet run -c Release --no-build --project tools/Aggregator.StreamBench -- "$@"
  exit $?
fi
dotnet run -c Release --project tools/Aggregator.Benchmarks -- "$@"
