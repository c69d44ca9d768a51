#!/usr/bin/env bash
# Interop tests of issue 4: our gateway and TypeScript forrealtime 0.1.13 on one Redis.
#   FORREALTIME_BIN=build/release/src/cli/forrealtime tests/integration/redis/interop/run.sh
# Starts its own redis-server on a free loopback port in a temporary directory, installs the
# npm packages of package-lock.json (npm ci), runs the tests, and exits non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
: "${FORREALTIME_BIN:?set FORREALTIME_BIN to the forrealtime gateway binary}"
FORREALTIME_BIN="$(realpath "$FORREALTIME_BIN")"
[ -x "$FORREALTIME_BIN" ] || { echo "run.sh: $FORREALTIME_BIN is not executable" >&2; exit 2; }

tmp="$(mktemp -d /tmp/forrealtime-interop-XXXXXX)"
redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no \
  --logfile "$tmp/redis.log" &
redis_pid=$!
for _ in $(seq 200); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$port" ping >/dev/null

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
REDIS_URL="redis://127.0.0.1:$port" FORREALTIME_BIN="$FORREALTIME_BIN" \
  node --test --test-concurrency=1 tests/interop.test.mjs tests/original_readme.test.mjs
