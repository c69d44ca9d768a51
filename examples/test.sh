#!/usr/bin/env bash
# The framework examples end to end in Chromium against the gateway in FORREALTIME_BIN
# (default: the release build): Hono (Node), Bun.serve, Next.js App Router and TanStack
# Start app servers with the browser client and @forrealtime/server, and the Python and Go
# snippets. Needs the two JS
# packages built (their test.sh suites do it; done here when missing). Go is skipped, with
# a notice, only when no Go toolchain is installed (scripts/install-deps.sh test adds it).
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd .. && pwd)
step() { printf '\n== %s\n' "$*"; }

# npm ci only when the lock changed since the last install here (it deletes and re-extracts
# about 400 MB: bun and next's compiler); the packages come from npm's cache after the first.
# TanStack Start has its own install (tanstack-start/: its pinned Vite 7 toolchain), kept
# the same way.
ci_if_changed() { # dir, what
  local stamp="$1/node_modules/.forrealtime-lock.sha256"
  if [ -f "$stamp" ] && (cd "$1" && sha256sum -c --status "node_modules/.forrealtime-lock.sha256") 2>/dev/null; then
    step "npm ci in examples/$1: node_modules matches package-lock.json, kept"
  else
    step "npm ci in examples/$1 ($2)"
    (cd "$1" && npm ci --no-audit --no-fund --prefer-offline && sha256sum package-lock.json > node_modules/.forrealtime-lock.sha256)
  fi
}
ci_if_changed . "hono, @hono/node-server, bun, next, react"
ci_if_changed tanstack-start "@tanstack/react-start, vite, react"
# The two packages of this repository, installed as an application gets them: packed, then
# installed from the tarballs (a copy, so that React resolves to the examples' one).
rm -rf .packs && mkdir .packs
for pkg in js server; do
  dir="$repo/clients/$pkg"
  if [ ! -f "$dir/dist/index.js" ] || [ ! -d "$dir/node_modules" ]; then
    step "build clients/$pkg"
    (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline && npm run --silent "$([ $pkg = js ] && echo build:lib || echo build)")
  fi
  (cd "$dir" && npm pack --silent --pack-destination "$repo/examples/.packs" >/dev/null)
done
npm install --no-save --no-audit --no-fund --prefer-offline .packs/*.tgz
(cd tanstack-start && npm install --no-save --no-audit --no-fund --prefer-offline ../.packs/*.tgz)
step "next build (examples/nextjs)"
(cd nextjs && NEXT_TELEMETRY_DISABLED=1 ../node_modules/.bin/next build)
# TanStack Start: typecheck and build only when its sources, lock or our packages changed
# (npm pack's tarballs are byte-identical for identical contents).
tss_stamp=tanstack-start/.output/.forrealtime-build.sha256
tss_inputs() { (cd tanstack-start && find src vite.config.ts tsconfig.json package-lock.json ../.packs -type f ! -name routeTree.gen.ts | LC_ALL=C sort | xargs sha256sum); }
if [ -f "$tss_stamp" ] && [ -f tanstack-start/.output/server/index.mjs ] && tss_inputs | cmp -s - "$tss_stamp"; then
  step "tanstack-start: built from these sources already, kept"
else
  step "tsc + vite build (examples/tanstack-start)"
  rm -f "$tss_stamp"
  (cd tanstack-start && node_modules/.bin/vite build && node_modules/.bin/tsc -p tsconfig.json)
  tss_inputs > "$tss_stamp"
fi
if [ -z "${FORREALTIME_BIN:-}" ] && [ -x "$repo/build/release/src/cli/forrealtime" ]; then
  export FORREALTIME_BIN="$repo/build/release/src/cli/forrealtime"
fi
[ -n "${FORREALTIME_BIN:-}" ] || { echo "FORREALTIME_BIN is not set and there is no release build" >&2; exit 1; }
command -v go >/dev/null || echo "!! no Go toolchain: the Go snippet test is SKIPPED (apt-get install golang-go)"
step "examples in chromium against the gateway"
node --test --test-concurrency=1 --test-reporter=spec e2e.test.mjs
