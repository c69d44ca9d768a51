#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 20; the whole
# HTTP path, fuzz_http, FUZZ_HTTP_SECONDS, default 30) from the seed corpus; exits non-zero on
# the first crash, leak or failed invariant, and then prints the end of that target's output.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
build=build/fuzz
CXX=clang++ cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$build" -j2 >/dev/null
for name in query json static_path jwt resp pg_change params http; do
  work=$(mktemp -d)
  log=$(mktemp)
  cp tests/fuzz/corpus/$name/* "$work/"
  t=$secs
  [ "$name" = http ] && t=${FUZZ_HTTP_SECONDS:-30}
  echo "fuzz_$name: ${t}s"
  status=0
  "$build/fuzz_$name" -max_total_time="$t" -max_len=4096 -print_final_stats=1 "$work" \
    >"$log" 2>&1 || status=$?
  grep -E "stat::number_of_executed_units|ERROR|SUMMARY|abort|invariant" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz_$name FAILED"
    rm -rf "$work" "$log"
    exit 1
  fi
  rm -rf "$work" "$log"
done
