#!/usr/bin/env bash
# The framework examples end to end in Chromium against the gateway in FORREALTIME_BIN
# (default: the release build): Hono (Node), Bun.serve and Next.js App Router app servers
# with the browser client and @forrealtime/server, and the Python and Go snippets. Needs the two JS
# packages built (their test.sh suites do it; done here when missing). Go is skipped, with
# a notice, only when no Go toolchain is installed (scripts/install-deps.sh test adds it).
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd .. && pwd)
step() { printf '\n== %s\n' "$*"; }

# npm ci only when the lock changed since the last install here (it deletes and re-extracts
# about 400 MB: bun and next's compiler); the packages come from npm's cache after the first.
stamp=node_modules/.forrealtime-lock.sha256
if [ -f "$stamp" ] && sha256sum -c --status "$stamp" 2>/dev/null; then
  step "npm ci: node_modules matches package-lock.json, kept"
else
  step "npm ci (hono, @hono/node-server, bun, next, react)"
  npm ci --no-audit --no-fund --prefer-offline
  sha256sum package-lock.json > "$stamp"
fi
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
step "next build (examples/nextjs)"
(cd nextjs && NEXT_TELEMETRY_DISABLED=1 ../node_modules/.bin/next build)
if [ -z "${FORREALTIME_BIN:-}" ] && [ -x "$repo/build/release/src/cli/forrealtime" ]; then
  export FORREALTIME_BIN="$repo/build/release/src/cli/forrealtime"
fi
[ -n "${FORREALTIME_BIN:-}" ] || { echo "FORREALTIME_BIN is not set and there is no release build" >&2; exit 1; }
command -v go >/dev/null || echo "!! no Go toolchain: the Go snippet test is SKIPPED (apt-get install golang-go)"
step "examples in chromium against the gateway"
node --test --test-concurrency=1 --test-reporter=spec e2e.test.mjs
