#!/usr/bin/env bash
# Everything for the JS side, from a fresh machine: install, typecheck, build (library and
# demo), unit tests, and the browser tests against the gateway in FORREALTIME_BIN
# (default: the release build, if it exists). Exits non-zero on any failure.
#
#   FORREALTIME_BIN=/path/to/forrealtime  the gateway under test
#   FORREALTIME_E2E_OPTIONAL=1            skip (not fail) the browser tests without a gateway
#   FORREALTIME_E2E_REDIS_URL=redis://…   also run the Redis restart tests
set -euo pipefail
cd "$(dirname "$0")/.."
js_dir=$(pwd)
repo=$(cd ../.. && pwd)

step() { printf '\n== %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund

step "typecheck"
npm run --silent typecheck

step "build: library (tsc) and demo (vite)"
npm run --silent build:lib
npm run --silent build:demo
# The published entry points must load and export what the README says.
node --input-type=module -e '
  const core = await import("@forrealtime/client");
  if (typeof core.createRealtimeClient !== "function") throw new Error("core export missing");
  for (const f of ["index", "react", "svelte"]) {
    await import("node:fs").then((fs) => fs.promises.access(`dist/${f}.d.ts`));
  }
'

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
node e2e/run.mjs

step "JS side: all passed"
