#!/usr/bin/env bash
# Command 1: install what is missing, build a release, build the demo page, and start
# `forrealtime serve` on http://127.0.0.1:8787 with the embedded store. Extra arguments go to
# `forrealtime serve` (e.g. scripts/run.sh --port 9000 --redis redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target forrealtime-bin

static="$root/web"
if [ -x clients/js/scripts/build-demo.sh ]; then
  if clients/js/scripts/build-demo.sh >/dev/null; then
    static="$root/clients/js/demo/dist"
  else
    echo "warning: the demo page did not build; serving the plain page in web/ instead" >&2
  fi
fi
echo "open http://127.0.0.1:${PORT:-8787}/ in a browser; Ctrl-C stops the server"
exec build/release/src/cli/forrealtime serve --static "$static" "$@"
