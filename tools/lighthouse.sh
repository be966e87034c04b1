#!/usr/bin/env bash
# Lighthouse (mobile profile) on the login page and the signed-in chat page of a `dotnet run` of the app.
# A developer tool, not a test: it needs Chromium (/usr/bin/chromium, or CHROME_PATH) and the npm registry
# once, for the pinned Lighthouse. Signing in needs no browser automation: a user is registered with curl,
# and its auth cookie is put into the Chromium that Lighthouse then drives (tools/lighthouse-cookie.mjs;
# --extra-headers would reach the document only, not the page's fetch and hub calls).
# Usage: tools/lighthouse.sh [--no-build]   → scores on stdout, reports in TestResults/lighthouse/
set -euo pipefail
cd "$(dirname "$0")/.."

LIGHTHOUSE=lighthouse@12.8.2   # the last major that runs on Node 20
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
PORT="${PORT:-5190}"
BASE="http://127.0.0.1:$PORT"
OUT="$(pwd)/TestResults/lighthouse"
WORK="$(mktemp -d)"
mkdir -p "$OUT"

build=()
[[ "${1:-}" == "--no-build" ]] && build=(--no-build)

# Development: demo mode seeds a provider, so the chat page has models, as on a first run.
ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$BASE" Data__Folder="$WORK/data" \
  dotnet run "${build[@]}" --no-launch-profile --project Aggregator.Web >"$WORK/app.log" 2>&1 &
app=$!
trap 'kill "$app" 2>/dev/null; wait "$app" 2>/dev/null; rm -rf "$WORK"' EXIT

for _ in $(seq 1 300); do
  curl -fs -o /dev/null "$BASE/Account/Login" && break
  kill -0 "$app" 2>/dev/null || { cat "$WORK/app.log"; echo "the app did not start" >&2; exit 1; }
  sleep 1
done

# Register (the first account) and keep its cookies.
jar="$WORK/cookies"
token=$(curl -fs -c "$jar" "$BASE/Account/Register" | sed -n 's/.*name="__RequestVerificationToken" type="hidden" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -o /dev/null -b "$jar" -c "$jar" "$BASE/Account/Register" \
  --data-urlencode "Input.Email=lighthouse@example.com" --data-urlencode "Input.Password=Passw0rd!x" \
  --data-urlencode "Input.ConfirmPassword=Passw0rd!x" --data-urlencode "__RequestVerificationToken=$token"
cookie=$(awk '$6 == "aggregator.auth" { printf "%s=%s", $6, $7 }' "$jar")
[[ -n "$cookie" ]] || { echo "could not sign in" >&2; exit 1; }

CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-background-networking)
DEBUG_PORT="${DEBUG_PORT:-9333}"

run() { # name url
  "$CHROME_PATH" "${CHROME_FLAGS[@]}" --remote-debugging-port="$DEBUG_PORT" --user-data-dir="$WORK/chrome-$1" about:blank >/dev/null 2>&1 &
  local chrome=$!
  for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$DEBUG_PORT/json/version" && break; sleep 0.2; done
  [[ "$1" == login ]] || node --experimental-websocket --no-warnings tools/lighthouse-cookie.mjs "$DEBUG_PORT" "$BASE" "$cookie"
  npx --yes "$LIGHTHOUSE" "$2" --port="$DEBUG_PORT" --quiet --output=json --output-path="$OUT/$1.json" --form-factor=mobile \
    --only-categories=performance,accessibility,best-practices || true
  kill "$chrome" 2>/dev/null; wait "$chrome" 2>/dev/null || true
  node -e '
    const r = require(process.argv[1]);
    const s = Object.values(r.categories).map((c) => `${c.title} ${Math.round(c.score * 100)}`).join(", ");
    const failed = Object.values(r.audits).filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual").map((a) => a.id);
    console.log(`${process.argv[2]}: ${s}${failed.length ? `  (below 0.9: ${failed.join(", ")})` : ""}`);
  ' "$OUT/$1.json" "$1"
}

run login "$BASE/Account/Login"
run chat "$BASE/"
