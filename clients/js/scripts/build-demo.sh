#!/usr/bin/env bash
# Installs the JS dependencies (from package-lock.json) and builds the demo page into
# clients/js/demo/dist, the directory to give to `forrealtime serve --static`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build:demo
echo "demo built: $(pwd)/demo/dist"
