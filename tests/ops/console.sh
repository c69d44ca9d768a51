#!/usr/bin/env bash
# The console's browser test (tests/ops/console_test.mjs) with what it needs: playwright-core
# from clients/js (installed with npm ci when missing) and Debian's chromium. The screenshot
# goes to build/release/artifacts/console.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${FORREALTIME_BIN:-$PWD/build/release/src/cli/forrealtime}
[ -d clients/js/node_modules/playwright-core ] || (cd clients/js && npm ci --no-audit --no-fund >/dev/null)
exec node tests/ops/console_test.mjs "$bin" "${FORREALTIME_ARTIFACTS:-$PWD/build/release/artifacts}"
