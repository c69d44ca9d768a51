#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (tests/fuzz/CMakeLists.txt, a project of its own in
# build/fuzz) and runs each for FUZZ_SECONDS (default 20; the whole HTTP path, fuzz_http,
# FUZZ_HTTP_SECONDS, default 30) from its seed corpus; exits non-zero on the first crash, leak,
# out-of-memory or failed invariant, and then prints the end of that target's output and the
# failing input (to add to the corpus as a regression case).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
build=build/fuzz
# The build's output is shown only when it fails (a fuzzer that does not link is a failure too).
blog=$(mktemp)
if ! { CXX=clang++ cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache && cmake --build "$build" -j2; } >"$blog" 2>&1; then
  tail -n 80 "$blog"
  echo "the fuzzers did not build"
  rm -f "$blog"
  exit 1
fi
rm -f "$blog"
for name in query json static_path jwt resp pg_change params forwarded hub_entry http; do
  work=$(mktemp -d)
  log=$(mktemp)
  cp tests/fuzz/corpus/$name/* "$work/"
  t=$secs
  [ "$name" = http ] && t=${FUZZ_HTTP_SECONDS:-30}
  echo "fuzz_$name: ${t}s"
  status=0
  "$build/fuzz_$name" -max_total_time="$t" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work" >"$log" 2>&1 || status=$?
  grep -E "stat::number_of_executed_units|ERROR|SUMMARY|abort|invariant" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    # The input that failed, so it can be added to the corpus as a regression case.
    for f in "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-*; do
      [ -f "$f" ] && echo "failing input (base64): $(base64 -w0 "$f")"
    done
    echo "fuzz_$name FAILED"
    rm -rf "$work" "$log"
    exit 1
  fi
  rm -rf "$work" "$log"
done
