#!/usr/bin/env bash
# Command 2: install what is missing, build, and run every test: unit and integration tests
# (a real redis-server and the real program on loopback), the same again under ASan + UBSan,
# the threaded tests under ThreadSanitizer, the benchmark tools' own tests, and the JS client's
# unit and browser tests. Exits non-zero on any failure. Set FORREALTIME_SKIP_ASAN=1,
# FORREALTIME_SKIP_TSAN=1 or FORREALTIME_SKIP_JS=1 to leave a part out locally.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
passed=0
failed=0
failures=()

suite() {  # suite NAME COMMAND...
  local name=$1
  shift
  printf '\n======== %s\n' "$name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    printf '======== %s: passed (%ss)\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf '======== %s: FAILED (%ss)\n' "$name" $((SECONDS - start))
  fi
}

scripts/install-deps.sh test || { echo "installing dependencies failed"; exit 1; }

build() {  # build PRESET
  cmake --preset "$1" >/dev/null && cmake --build --preset "$1"
}

# Two lanes share the 2 cores. The sanitizer builds (and the fuzzers) run in the background at
# low CPU priority (nice 15), while the suites that need only the release build run in the
# foreground at normal priority: a compiler waits whenever a test wants the CPU, so timing-bound
# tests see an almost idle machine, and the builds use what the tests leave (browser and
# Redis-bound suites leave a lot). A background step's output is kept in a file and printed
# whole when the foreground collects it, so no two outputs interleave.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
low() { nice -n 15 "$@"; }
build_low() {  # build_low PRESET
  cmake --preset "$1" >/dev/null && low cmake --build --preset "$1"
}
background() {  # background KEY COMMAND...: runs COMMAND, output to $logs/KEY.log
  local key=$1
  shift
  local start rc=0
  start=$(date +%s)
  "$@" >"$logs/$key.log" 2>&1 || rc=$?
  echo "$rc $(($(date +%s) - start))" >"$logs/$key.rc"
}
collect() {  # collect KEY NAME: waits for a background step and reports it as a suite; its status
  local key=$1 name=$2
  printf '\n======== %s (ran in the background)\n' "$name"
  while [ ! -f "$logs/$key.rc" ]; do sleep 2; done
  cat "$logs/$key.log"
  local rc secs
  read -r rc secs <"$logs/$key.rc"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf '======== %s: passed (%ss)\n' "$name" "$secs"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf '======== %s: FAILED (%ss)\n' "$name" "$secs"
  fi
  return "$rc"
}

# The servers the tests start themselves (redis-server on free ports in temp dirs); nothing
# here may be left running: each test stops what it started.
export CTEST_OUTPUT_ON_FAILURE=1
# Paths relative to the checkout in ccache's keys: the container image's build stage
# (tests/ops/image.sh, the checkout at /src) then hits the objects of the release build here.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
run_asan=1 run_tsan=1 run_js=1
[ "${FORREALTIME_SKIP_ASAN:-0}" = 1 ] && run_asan=0
[ "${FORREALTIME_SKIP_TSAN:-0}" = 1 ] && run_tsan=0
[ "${FORREALTIME_SKIP_JS:-0}" = 1 ] && run_js=0

suite "release build" build release

# Lane 2, in the background: the ASan + UBSan build, the TSan build, then the fuzzers (their
# own clang build of the parsers and of the HTTP path, then a fixed time each).
sanitizer_builds() {
  [ $run_asan = 1 ] && background asan_build build_low asan
  [ $run_tsan = 1 ] && background tsan_build build_low tsan
  background fuzz nice -n 15 tests/fuzz/run.sh
}
sanitizer_builds &
lane2=$!
# Lane 3, in the background too: the container image (tests/ops/image.sh). Mostly downloads and
# dpkg on a fresh machine (the debian:12-slim base made by mmdebstrap, apt in both stages: 10-15
# minutes cold), and its build stage's compile is ccache hits from the release build above.
image_name="Container image: the Dockerfile built with podman and run (probes, non-root, HEALTHCHECK, emit/subscribe, drain)"
background image nice -n 5 tests/ops/image.sh &
lane3=$!

# Lane 1: everything that needs only the release build.
suite "C++ tests (release)" ctest --preset release -j2 --timeout 300 --no-tests=error
suite "find_package(forrealtime) from an installed copy" tests/package/run.sh
suite "README: the Securing the gateway snippets (Node, Python, Go) against the gateway" \
  env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" tests/docs/readme_auth.py
suite "Debian package: built by CPack, installed with apt, started as its user, purged" tests/ops/deb.sh
if [ -x tests/integration/redis/interop/run.sh ]; then
  suite "Redis interop with TypeScript forrealtime" \
    env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" tests/integration/redis/interop/run.sh
  suite "Redis Cluster interop with TypeScript forrealtime (ioredis Cluster)" \
    env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" tests/integration/redis/interop/run_cluster.sh
fi
if [ $run_js = 1 ]; then
  suite "Typed events: TypeScript codegen under tsc, Zod schema file against the gateway" \
    env FORREALTIME_BUILD_DIR="$root/build/release" tests/codegen/run.sh
  if [ -x clients/js/scripts/test.sh ]; then
    suite "JS client: unit and browser tests" \
      env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" clients/js/scripts/test.sh
  fi
  if [ -x clients/server/scripts/test.sh ]; then
    suite "@forrealtime/server: types under tsc, tests against the gateway" \
      env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" clients/server/scripts/test.sh
  fi
  if [ -x examples/test.sh ]; then
    suite "examples: Hono, Bun.serve, Next.js, TanStack Start, Python and Go against the gateway in chromium" \
      env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" examples/test.sh
  fi
  suite "Console in chromium: loads clean, charts move under load, try-it, screenshot" \
    tests/ops/console.sh
  suite "OpenAPI: docs/openapi.yaml valid 3.1, every route in it, real answers match its schemas" \
    tests/ops/openapi.sh
  suite "Reverse proxy: the nginx and Caddy recipes, TLS + HTTP/2, ten chromium tabs" \
    tests/ops/proxy.sh
fi

# The sanitizer lane's results, as its builds finish; its tests run in the foreground.
if [ $run_asan = 1 ]; then
  if collect asan_build "ASan + UBSan build"; then
    suite "C++ tests (ASan + UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --preset asan -j2 --timeout 600 --no-tests=error
  fi
fi
if [ $run_tsan = 1 ]; then
  # ThreadSanitizer on the tests that run threads (label `threads`: the library, the gateway
  # in-process and as a program, the Redis store); the preset builds only those targets. A
  # report ends the process that found it (halt_on_error), the gateway subprocesses included,
  # and every report is kept in build/tsan/reports and printed here.
  tsan_reports="$root/build/tsan/reports"
  tsan_tests() {
    rm -rf "$tsan_reports" && mkdir -p "$tsan_reports"
    local ok=0
    # The preset sets TSAN_OPTIONS (halt_on_error, the suppressions) and appends these.
    FORREALTIME_TSAN_OPTIONS="log_path=$tsan_reports/tsan" \
      ctest --preset tsan -j2 --timeout 600 --no-tests=error || ok=1
    if compgen -G "$tsan_reports/tsan.*" >/dev/null; then
      cat "$tsan_reports"/tsan.*
      ok=1
    fi
    return $ok
  }
  if collect tsan_build "TSan build (the threaded tests)"; then
    suite "C++ tests that run threads (TSan)" tsan_tests
  fi
fi
collect fuzz "fuzz: libFuzzer on every parser of untrusted bytes and on the whole HTTP path"
collect image "$image_name"
wait "$lane2" "$lane3"
echo "test.sh took $((SECONDS / 60)) min $((SECONDS % 60)) s"

printf '\n'
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
