#!/usr/bin/env bash
# The reverse-proxy recipes of docs/deploy (nginx and Caddy, Debian's packages) in front of the
# real gateway with ten Chromium tabs (tests/ops/proxy_test.mjs): TLS, HTTP/2, nothing buffered,
# one event to every tab; and the HTTP/1.1 control where the seventh tab stalls. Installs its
# npm tools (playwright-core; tests/ops/package-lock.json) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${FORREALTIME_BIN:-$PWD/build/release/src/cli/forrealtime}
if ! (cd tests/ops && npm ls --silent >/dev/null 2>&1); then
  (cd tests/ops && npm ci --no-audit --no-fund >/dev/null)
fi
exec node tests/ops/proxy_test.mjs "$bin"
