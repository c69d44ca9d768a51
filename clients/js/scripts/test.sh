#!/usr/bin/env bash
# Everything for the JS side, from a fresh machine: install, typecheck, build (library and
# demo), unit tests, and the browser tests against the gateway in FORREALTIME_BIN
# (default: the release build, if it exists). Exits non-zero on any failure.
#
#   FORREALTIME_BIN=/path/to/forrealtime  the gateway under test
#   FORREALTIME_E2E_OPTIONAL=1            skip (not fail) the browser tests without a gateway
#   FORREALTIME_E2E_REDIS_URL=redis://…   the Redis for the restart tests (default: a
#                                         throw-away redis-server if one is installed)
#   FORREALTIME_E2E_START_REDIS=0         do not start one
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(cd ../.. && pwd)

step() { printf '\n== %s\n' "$*"; }

if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "Node.js >= 20.19 is needed (vite 8); found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

step "npm ci"
npm ci --no-audit --no-fund

step "typecheck"
npm run --silent typecheck

step "build: library (tsc) and demo (vite)"
npm run --silent build:lib
npm run --silent build:demo
# The published entry points (package.json "exports" -> dist) load in Node and typecheck
# as an application sees them, with the nested event map codegen writes.
# `import` and `require` of every entry (the runes entry is ESM only).
node --input-type=module -e '
  for (const e of ["@forrealtime/client", "@forrealtime/client/react", "@forrealtime/client/svelte", "@forrealtime/client/svelte/runes"]) {
    const m = await import(e);
    if (typeof (m.createRealtimeClient ?? m.useRealtime) !== "function") throw new Error(`import ${e}: exports missing`);
  }
'
node -e '
  for (const e of ["@forrealtime/client", "@forrealtime/client/react", "@forrealtime/client/svelte"]) {
    const m = require(e);
    if (typeof m.createRealtimeClient !== "function") throw new Error(`require ${e}: exports missing`);
  }
  const react = require("fs").readFileSync(require.resolve("@forrealtime/client/react"), "utf8");
  if (!/^"use strict";\s*"use client";/.test(react)) throw new Error("the CommonJS React entry lost \"use client\"");
'
head -c 13 dist/react.js | grep -qx '"use client";' || { echo 'dist/react.js lost "use client"' >&2; exit 1; }
npm run --silent typecheck:consumer

step "unit tests (vitest)"
npx vitest run

step "browser tests (playwright-core + Debian chromium)"
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if [ -z "${FORREALTIME_BIN:-}" ] && [ -x "$repo/build/release/src/cli/forrealtime" ]; then
  export FORREALTIME_BIN="$repo/build/release/src/cli/forrealtime"
fi
# The Redis restart tests need a Redis: use FORREALTIME_E2E_REDIS_URL, or start a
# throw-away redis-server on a free port when one is installed.
redis_pid=
if [ -z "${FORREALTIME_E2E_REDIS_URL:-}" ] && command -v redis-server >/dev/null \
  && [ "${FORREALTIME_E2E_START_REDIS:-1}" = 1 ]; then
  redis_dir=$(mktemp -d)
  redis_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
  redis_pid=$!
  trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$redis_dir"' EXIT
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export FORREALTIME_E2E_REDIS_URL="redis://127.0.0.1:$redis_port"
fi
node e2e/run.mjs

step "JS side: all passed"
