#!/usr/bin/env bash
# The container image, for real: the repository's Dockerfile built with podman (Debian's; no
# Docker engine here) on a debian:12-slim base made locally by mmdebstrap from the Debian mirror,
# then run: /livez and /readyz through the published port, the process runs as the package's
# non-root user, the image's HEALTHCHECK passes (and fails when the gateway is frozen; and passes
# with the port set in a mounted config file, or by a flag after the image name), an event
# emitted through the port reaches a subscriber through the port, the conffile has the package's
# owner and mode, and SIGTERM stops it with exit 0.
#
# What is local and why: the base image is not pulled (only Debian's apt mirror is reachable);
# mmdebstrap --variant=minbase builds it (what the official image is made from, with the slim
# image's dpkg excludes) and it is imported under the name the Dockerfile's FROM says, in a
# private podman store ($FORREALTIME_IMAGE_STATE, kept between runs; the base is remade after a
# week). The build stage compiles with the host's ccache handed in as a volume, so after CI's
# release build the compile is mostly cache hits; everything else (apt in both stages, configure,
# link, cpack, the second stage) runs as written. Podman runs with runc and cgroupfs (crun
# refuses this machine's hybrid cgroup layout) and ulimits the sandbox lets a container set.
# Needs root; without root it fails unless FORREALTIME_IMAGE_OPTIONAL=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
version=$(sed -n 's/^project(forrealtime VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
t0=$SECONDS
step() { echo "[image +$((SECONDS - t0))s] $*"; }
fail() { echo "image test: FAILED: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  echo "image test: needs root (rootful podman)" >&2
  [ "${FORREALTIME_IMAGE_OPTIONAL:-0}" = 1 ] && { echo "SKIPPED"; exit 0; }
  exit 1
fi
for tool in podman runc mmdebstrap; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh test installs it)"
done

state=${FORREALTIME_IMAGE_STATE:-/var/tmp/forrealtime-image}
mkdir -p "$state"
# One image build at a time on this machine, whichever worktree runs it.
exec 8>"$state/lock"
flock 8

work=$(mktemp -d)
conf=$work/containers.conf
# Ulimits: podman's defaults raise nofile and nproc, which the sandbox refuses (no
# CAP_SYS_RESOURCE; crun/runc: "setrlimit RLIMIT_NPROC: Operation not permitted"); the
# current hard nofile and a lower nproc are allowed.
cat >"$conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$conf
pm() { podman --root "$state/storage" --runroot "$state/run" "$@"; }
hc() { timeout 30 podman --root "$state/storage" --runroot "$state/run" healthcheck run "$@"; }
name=forrealtime-image-test-$$
image=localhost/forrealtime-test:$version
cleanup() {
  pm rm -f -t 0 "$name" "$name-9001" "$name-9100" >/dev/null 2>&1 || true
  [ -n "${sub:-}" ] && kill "$sub" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Every change of the sources leaves a build stage's layers behind (about 1 GB with the
# toolchain); past 20 GB the store starts again (the base is remade, the toolchain downloaded).
if [ -d "$state/storage" ] && [ "$(du -sm "$state/storage" | cut -f1)" -gt 20000 ]; then
  step "the image store is over 20 GB: starting it again"
  pm system reset -f >/dev/null 2>&1 || true
fi

# 1. The base image debian:12-slim, made from the Debian mirror, kept for a week.
base=docker.io/library/debian:12-slim
created=$(pm image inspect --format '{{.Created.Unix}}' "$base" 2>/dev/null || echo 0)
if [ $(($(date +%s) - created)) -gt $((7 * 86400)) ]; then
  step "making $base with mmdebstrap (minbase bookworm, slim excludes)"
  # The host's downloaded packages are offered to apt (it checks their hashes against the
  # mirror's index; what is missing or newer is downloaded).
  mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives && cp -l /var/cache/apt/archives/*.deb "$1"/var/cache/apt/archives/ 2>/dev/null || true' \
    bookworm "$work/base.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >"$work/mmdebstrap.log" 2>&1 ||
    { cat "$work/mmdebstrap.log"; fail "mmdebstrap"; }
  pm import --quiet --change 'CMD ["bash"]' "$work/base.tar" "$base" >/dev/null
  rm -f "$work/base.tar"
  pm image prune -f >/dev/null 2>&1 || true
fi
[ "$(pm run --rm --pull=never "$base" cat /etc/debian_version | cut -d. -f1)" = 12 ] ||
  fail "the base is not Debian 12"

# 2. The image, built from this repository's Dockerfile. --format docker: the OCI image format
# has no HEALTHCHECK (podman would drop it with a warning).
ccache_dir=$(ccache -k cache_dir 2>/dev/null || echo /root/.cache/ccache)
mkdir -p "$ccache_dir"
step "podman build (Dockerfile of $repo)"
pm build --pull=never --format docker --layers -t "$image" \
  -v "$ccache_dir:/host-ccache" --build-arg CCACHE_DIR=/host-ccache \
  -f Dockerfile . >"$work/build.log" 2>&1 || { tail -60 "$work/build.log"; fail "podman build"; }
grep -E '^\[[0-9]+/[0-9]+\] (Linking|Building)' "$work/build.log" | tail -1 || true
step "built $image ($(pm image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"

# The image's configuration: what the Dockerfile says, kept by the build.
cfg() { pm image inspect --format "$1" "$image"; }
[ "$(cfg '{{.Config.User}}')" = forrealtime:forrealtime ] || fail "image user is '$(cfg '{{.Config.User}}')'"
cfg '{{json .Config.Healthcheck}}' | grep -q '"healthcheck","--process","1"' ||
  fail "the image's HEALTHCHECK is not forrealtime healthcheck --process 1: $(cfg '{{json .Config.Healthcheck}}')"
cfg '{{json .Config.Env}}' | grep -q 'FORREALTIME_PORT' && fail "the image sets FORREALTIME_PORT (it would override a mounted config)"
cfg '{{json .Config.Entrypoint}}' | grep -q '"serve"' || fail "the entry point does not serve"
cfg '{{json .Config.ExposedPorts}}' | grep -q '8787/tcp' || fail "8787 is not exposed"

# Inside the image: the package as deb.sh checks it on a host, and no build tools.
inside() { pm run --rm --pull=never --no-healthcheck --user root --entrypoint /bin/sh "$image" -c "$1"; }
facts=$(inside 'forrealtime --version; dpkg-query -W -f="\${Version}\n" forrealtime;
  stat -c %U:%G:%a /etc/forrealtime/config.json; getent passwd forrealtime | cut -d: -f7;
  test -e /usr/lib/systemd/system/forrealtime.service && echo unit;
  command -v g++ cmake || echo no-toolchain; ls /tmp | wc -l;
  sed -n "s/.*\"host\": \"\(.*\)\".*/\1/p" /etc/forrealtime/config.json')
expected="forrealtime $version
$version
root:forrealtime:640
/usr/sbin/nologin
unit
no-toolchain
0
0.0.0.0"
[ "$facts" = "$expected" ] || fail "inside the image: got
$facts
expected
$expected"
# The unit's ExecStartPre, as the image's user: the packaged config is valid.
pm run --rm --pull=never --no-healthcheck --entrypoint /usr/bin/forrealtime "$image" check-config /etc/forrealtime/config.json \
  >/dev/null || fail "check-config refused the packaged config as forrealtime"

# 3. Run it: published on a free loopback port, the entry point as written.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
step "podman run -p 127.0.0.1:$port:8787"
# Podman would start a systemd timer for the health check (there is no systemd here: it logs
# an error and goes on); the test runs the image's health check itself.
pm run -d --pull=never --name "$name" -p "127.0.0.1:$port:8787" -e FORREALTIME_DRAIN_DELAY=1 \
  "$image" >/dev/null 2>"$work/run.err" || { cat "$work/run.err"; fail "podman run"; }
base_url=http://127.0.0.1:$port
for _ in $(seq 150); do
  curl -fsS "$base_url/livez" >/dev/null 2>&1 && break
  [ "$(pm inspect --format '{{.State.Running}}' "$name")" = true ] ||
    { pm logs "$name" | tail -20; fail "the container exited at start"; }
  sleep 0.2
done
curl -fsS "$base_url/livez" >/dev/null || { pm logs "$name" | tail -20; fail "/livez"; }
curl -fsS "$base_url/readyz" >/dev/null || fail "/readyz"

# Non-root: the gateway is PID 1 of the container and runs as the package's user.
hostpid=$(pm inspect --format '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$hostpid/status")
[ "$uid" != 0 ] || fail "the gateway runs as root"
[ "$(pm exec "$name" id -u forrealtime)" = "$uid" ] || fail "the gateway's uid $uid is not forrealtime's"
[ "$(tr '\0' ' ' <"/proc/$hostpid/cmdline")" = "/usr/bin/forrealtime serve --config /etc/forrealtime/config.json " ] ||
  fail "PID 1 is $(tr '\0' ' ' <"/proc/$hostpid/cmdline")"

# The HEALTHCHECK, run as the engine runs it; and it must fail when the gateway does not answer.
hc "$name" >/dev/null || fail "the HEALTHCHECK failed on a healthy gateway"
[ "$(pm inspect --format '{{.State.Health.Status}}' "$name")" = healthy ] || fail "not healthy"
kill -STOP "$hostpid"
step "health check on the frozen gateway (SIGSTOP)"
if hc "$name" >/dev/null 2>&1; then
  kill -CONT "$hostpid"
  fail "the HEALTHCHECK passed while the gateway was stopped"
fi
kill -CONT "$hostpid"
step "the health check failed, as it should"
hc "$name" >/dev/null || fail "the HEALTHCHECK did not recover"

# Emit and subscribe, both through the published port.
curl -sN "$base_url/api/realtime?channel=image" >"$work/sse" 2>/dev/null &
sub=$!
for _ in $(seq 50); do grep -q '"connected"' "$work/sse" && break; sleep 0.1; done
grep -q '"connected"' "$work/sse" || fail "the subscriber got no connected event"
id=$(curl -fsS -X POST "$base_url/api/emit" -H 'Content-Type: application/json' \
  -d '{"channel":"image","event":"image.test","data":{"n":42}}')
grep -q '"id"' <<<"$id" || fail "emit answered $id"
for _ in $(seq 50); do grep -q 'image.test' "$work/sse" && break; sleep 0.1; done
grep -q '"n":42' "$work/sse" || { cat "$work/sse"; fail "the emitted event did not reach the subscriber"; }
curl -fsS "$base_url/api/history?channel=image" | grep -q '"image.test"' || fail "history lacks the event"

# The HEALTHCHECK follows the port wherever it is set: (a) only in a config file mounted over the
# conffile, (b) by a flag after the image name, with another port in FORREALTIME_PORT (the flag
# wins for serve, and so for the probe).
elsewhere() {  # elsewhere WHAT CONTAINER_PORT PODMAN_RUN_ARGS... -- SERVE_ARGS...
  local what=$1 cport=$2 hport other=$name-$2
  shift 2
  local run_args=()
  while [ "$1" != -- ]; do run_args+=("$1"); shift; done
  shift
  hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pm run -d --pull=never --name "$other" -p "127.0.0.1:$hport:$cport" "${run_args[@]}" "$image" "$@" \
    >/dev/null 2>"$work/run.err" || { cat "$work/run.err"; fail "podman run ($what)"; }
  for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$hport/livez" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "http://127.0.0.1:$hport/livez" >/dev/null || { pm logs "$other" | tail; pm rm -f -t 0 "$other" >/dev/null; fail "$what: /livez on $cport"; }
  hc "$other" >/dev/null || { pm logs "$other" | tail; pm rm -f -t 0 "$other" >/dev/null; fail "$what: the HEALTHCHECK failed on a gateway listening on $cport"; }
  pm rm -f -t 0 "$other" >/dev/null
  step "HEALTHCHECK passed with the port $cport $what"
}
printf '{"host": "0.0.0.0", "port": 9001, "log_format": "json"}\n' >"$work/config.json"
chmod 644 "$work/config.json"
elsewhere "in a mounted config file" 9001 -v "$work/config.json:/etc/forrealtime/config.json:ro" --
elsewhere "as a flag after the image name (FORREALTIME_PORT=9200)" 9100 -e FORREALTIME_PORT=9200 -- --port 9100

# SIGTERM (podman stop sends the image's STOPSIGNAL): /readyz goes 503 during the drain delay,
# the subscriber is told to reconnect, the gateway exits 0.
pm kill --signal TERM "$name" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "$base_url/readyz" || true)
[ "$code" = 503 ] || fail "/readyz answered $code while draining"
for _ in $(seq 100); do
  [ "$(pm inspect --format '{{.State.Running}}' "$name")" = false ] && break
  sleep 0.1
done
[ "$(pm inspect --format '{{.State.Running}}' "$name")" = false ] || fail "still running 10 s after SIGTERM"
rc=$(pm inspect --format '{{.State.ExitCode}}' "$name")
[ "$rc" = 0 ] || { pm logs "$name" | tail; fail "exit $rc after SIGTERM"; }
wait "$sub" 2>/dev/null || true
sub=
grep -q reconnect "$work/sse" || fail "the subscriber was not told to reconnect"
pm logs "$name" >"$work/logs" 2>&1
grep -q '"level"' "$work/logs" || { cat "$work/logs"; fail "the packaged config should log JSON lines"; }
step "image test: built from the repository, ran as uid $uid, probes, HEALTHCHECK (its failure, and the port from a mounted config or a flag), emit -> subscribe through the port, drain and exit 0"
