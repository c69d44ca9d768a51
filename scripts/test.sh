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

# The servers the tests start themselves (redis-server on free ports in temp dirs); nothing
# here may be left running: each test stops what it started.
export CTEST_OUTPUT_ON_FAILURE=1
build_start=$SECONDS
suite "release build" build release
echo "release build took $((SECONDS - build_start))s"
suite "C++ tests (release)" ctest --preset release -j2 --timeout 300 --no-tests=error
suite "find_package(forrealtime) from an installed copy" tests/package/run.sh
suite "Debian package: built by CPack, installed with apt, started as its user, purged" tests/ops/deb.sh
if [ "${FORREALTIME_SKIP_ASAN:-0}" != 1 ]; then
  suite "ASan + UBSan build" build asan
  suite "C++ tests (ASan + UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --preset asan -j2 --timeout 600 --no-tests=error
fi
if [ "${FORREALTIME_SKIP_TSAN:-0}" != 1 ]; then
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
  suite "TSan build (the threaded tests)" build tsan
  suite "C++ tests that run threads (TSan)" tsan_tests
fi
suite "fuzz: libFuzzer on the query, JSON and static-path parsers" tests/fuzz/run.sh
if [ -x tests/integration/redis/interop/run.sh ]; then
  suite "Redis interop with TypeScript forrealtime" \
    env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" tests/integration/redis/interop/run.sh
fi
if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ]; then
  suite "Typed events: TypeScript codegen under tsc, Zod schema file against the gateway" \
    env FORREALTIME_BUILD_DIR="$root/build/release" tests/codegen/run.sh
fi
if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ] && [ -x clients/js/scripts/test.sh ]; then
  suite "JS client: unit and browser tests" \
    env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" clients/js/scripts/test.sh
fi
if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ] && [ -x clients/server/scripts/test.sh ]; then
  suite "@forrealtime/server: types under tsc, tests against the gateway" \
    env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" clients/server/scripts/test.sh
fi
if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ] && [ -x examples/test.sh ]; then
  suite "examples: Hono, Bun.serve, Next.js, TanStack Start, Python and Go against the gateway in chromium" \
    env FORREALTIME_BIN="$root/build/release/src/cli/forrealtime" examples/test.sh
fi

if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ]; then
  suite "Console in chromium: loads clean, charts move under load, try-it, screenshot" \
    tests/ops/console.sh
fi
if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ]; then
  suite "OpenAPI: docs/openapi.yaml valid 3.1, every route in it, real answers match its schemas" \
    tests/ops/openapi.sh
fi
if [ "${FORREALTIME_SKIP_JS:-0}" != 1 ]; then
  suite "Reverse proxy: the nginx and Caddy recipes, TLS + HTTP/2, ten chromium tabs" \
    tests/ops/proxy.sh
fi

printf '\n'
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
