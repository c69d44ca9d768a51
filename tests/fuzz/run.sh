#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 20) from the
# seed corpus; exits non-zero on the first crash, leak or failed invariant.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
build=build/fuzz
CXX=clang++ cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$build" >/dev/null
for name in query json static_path jwt resp pg_change params; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/$name/* "$work/"
  echo "fuzz_$name: ${secs}s"
  "$build/fuzz_$name" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 "$work" 2>&1 |
    grep -E "stat::number_of_executed_units|ERROR|SUMMARY|abort" || true
  status=${PIPESTATUS[0]}
  rm -rf "$work"
  [ "$status" -eq 0 ] || { echo "fuzz_$name FAILED"; exit 1; }
done
