#!/usr/bin/env bash
# Interop tests of issue 12 on a Redis Cluster: our gateway (`--redis redis-cluster://...`) and
# TypeScript forrealtime 0.1.13 with an ioredis Cluster client, on one cluster of 3 masters and
# 3 replicas (as tests/integration/cluster/redis_cluster.hpp starts them).
#   FORREALTIME_BIN=build/release/src/cli/forrealtime tests/integration/redis/interop/run_cluster.sh
# Starts six redis-server processes (cluster-enabled, free loopback ports, cluster bus on other
# free ports) in a temporary directory, joins them with `redis-cli --cluster create`, runs the
# shared interop tests (tests/interop.test.mjs) and the cluster's own (tests/cluster.test.mjs)
# against it, stops every process and exits non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
: "${FORREALTIME_BIN:?set FORREALTIME_BIN to the forrealtime gateway binary}"
FORREALTIME_BIN="$(realpath "$FORREALTIME_BIN")"
[ -x "$FORREALTIME_BIN" ] || { echo "run_cluster.sh: $FORREALTIME_BIN is not executable" >&2; exit 2; }

tmp="$(mktemp -d /tmp/forrealtime-interop-cluster-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Twelve distinct free ports: six nodes and their cluster buses.
read -r -a ports <<<"$(node -e '
const net = require("net");
const servers = [];
let left = 12;
for (let i = 0; i < 12; ++i) {
  const s = net.createServer();
  servers.push(s);
  s.listen(0, "127.0.0.1", () => {
    if (--left === 0) {
      console.log(servers.map((x) => x.address().port).join(" "));
      servers.forEach((x) => x.close());
    }
  });
}')"

nodes=()
for i in 0 1 2 3 4 5; do
  port="${ports[$i]}"
  bus="${ports[$((i + 6))]}"
  mkdir -p "$tmp/$port"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp/$port" --save "" --appendonly no \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
    --cluster-port "$bus" --logfile "$tmp/$port/redis.log" &
  pids+=($!)
  nodes+=("127.0.0.1:$port")
done
for n in "${nodes[@]}"; do
  for _ in $(seq 200); do
    redis-cli -p "${n##*:}" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  redis-cli -p "${n##*:}" ping >/dev/null
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$tmp/create.log"
ok=0
for _ in $(seq 400); do
  ok=1
  for n in "${nodes[@]}"; do
    redis-cli -p "${n##*:}" cluster info | grep -q 'cluster_state:ok' || { ok=0; break; }
  done
  [ $ok = 1 ] && break
  sleep 0.05
done
[ $ok = 1 ] || { echo "run_cluster.sh: the cluster did not reach cluster_state:ok" >&2; exit 1; }

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
seeds="$(IFS=,; echo "${nodes[*]:0:3}")"
REDIS_URL="redis-cluster://$seeds" REDIS_CLUSTER_NODES="$seeds" \
  FORREALTIME_BIN="$FORREALTIME_BIN" \
  node --test --test-concurrency=1 tests/interop.test.mjs tests/cluster.test.mjs
