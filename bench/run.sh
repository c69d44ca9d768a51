#!/usr/bin/env bash
# One command for the benchmarks: install the peers (apt: redis-server, nginx + nchan; npm:
# the TypeScript forrealtime baseline and Bun), build the load generator, run every scenario
# against every server and write bench/RESULTS.md. See bench/README.md.
#
#   bench/run.sh [--quick] [--scenarios fanout,idle,private,hot,replay,emit]
#                [--servers ours,ours-redis,ts,nchan,bare] [--reps N] [--no-install]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
install=1
args=()
for a in "$@"; do
  case "$a" in
    --no-install) install=0 ;;
    -h|--help) exec python3 "$here/scenarios.py" --help ;;
    *) args+=("$a") ;;
  esac
done

if [[ $install == 1 ]]; then
  missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nginx >/dev/null || missing+=(nginx-light)
  [[ -e /usr/lib/nginx/modules/ngx_nchan_module.so ]] || missing+=(libnginx-mod-nchan)
  if ((${#missing[@]})); then
    echo "[run.sh] apt-get install ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  # Debian starts nginx as a service on install; the benchmark runs its own nginx.
  if [[ ! -x $here/baseline/node_modules/.bin/bun ]] || ! "$here/baseline/node_modules/.bin/bun" --version >/dev/null 2>&1; then
    echo "[run.sh] npm ci in bench/baseline" >&2
    (cd "$here/baseline" && npm ci --no-audit --no-fund)
  fi
fi

build=${FORREALTIME_BENCH_BUILD:-$root/build/bench}
echo "[run.sh] building the load generator in $build" >&2
nice -n 10 cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
nice -n 10 ninja -C "$build" >/dev/null

exec python3 "$here/scenarios.py" --loadgen-dir "$build" "${args[@]}"
