#!/usr/bin/env bash
# The Debian package, for real: built by CPack from the release build, installed with
# `apt install ./forrealtime_*.deb`, its unit's ExecStartPre and ExecStart lines run as the
# service's system user (systemd does not run in the test container, so the lines are run
# directly with setpriv), probed over HTTP, stopped with SIGTERM (exit 0), then purged (user and files gone).
# Needs root (it installs a package); without root it fails unless FORREALTIME_DEB_OPTIONAL=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${FORREALTIME_BUILD_DIR:-$PWD/build/release}
version=$(sed -n 's/^project(forrealtime VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)

if [ "$(id -u)" != 0 ]; then
  echo "deb test: needs root to install a package" >&2
  [ "${FORREALTIME_DEB_OPTIONAL:-0}" = 1 ] && { echo "SKIPPED"; exit 0; }
  exit 1
fi
# One package install at a time on this machine, whichever worktree runs it.
exec 9>/tmp/forrealtime-deb-test.lock
flock 9

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq forrealtime >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "deb test: FAILED: $*" >&2; exit 1; }

cmake --build "$build" --target forrealtime-bin >/dev/null
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work" >cpack.log 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/forrealtime_*.deb)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not $version"
dpkg-deb -f "$deb" Depends | grep -q libhiredis || fail "Depends lacks the shared libraries"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/forrealtime ./usr/lib/systemd/system/forrealtime.service \
  ./etc/forrealtime/config.json ./usr/share/doc/forrealtime/LICENSE; do
  grep -q " $f\$" <<<"$contents" || fail "$f is not in the package"
done
if grep -q "include/forrealtime" <<<"$contents"; then fail "headers leaked into the package"; fi
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/forrealtime/config.json ||
  fail "config.json is not a conffile"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "apt install"; }
[ -x /usr/bin/forrealtime ] || fail "no /usr/bin/forrealtime after install"
getent passwd forrealtime | grep -q nologin || fail "no forrealtime system user"
[ "$(/usr/bin/forrealtime --version)" = "forrealtime $version" ] || fail "--version"
[ "$(stat -c %U:%G:%a /etc/forrealtime/config.json)" = root:forrealtime:640 ] ||
  fail "config.json should be root:forrealtime 0640"
unit=/usr/lib/systemd/system/forrealtime.service
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" 2>&1 | grep -v -e 'Failed to' -e 'not running' |
    grep -i forrealtime && fail "systemd-analyze verify complains"
fi

pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
[ -n "$pre" ] && [ -n "$start" ] && [ "$user" = forrealtime ] || fail "unit lacks its lines"
# shellcheck disable=SC2086
setpriv --reuid="$user" --regid="$user" --init-groups -- $pre || fail "ExecStartPre ($pre) refused the packaged config"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The environment overrides the config file's port (flags > env > file), so the test can use
# a free port.
# shellcheck disable=SC2086
setpriv --reuid="$user" --regid="$user" --init-groups -- env FORREALTIME_PORT="$port" $start >"$work/out.log" 2>"$work/err.log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err.log"; fail "the service exited at start"; }
  sleep 0.1
done
probe=/healthz
curl -fsS "$base/livez" >/dev/null 2>&1 && probe=/livez
curl -fsS "$base$probe" >/dev/null || { cat "$work/err.log"; fail "$probe"; }
owner=$(ps -o user= -p "$pid" | tr -d ' ')
[ "$owner" = forrealtime ] || fail "the service runs as '$owner', not forrealtime"
id=$(curl -fsS -X POST "$base/api/emit" -d '{"channel":"deb","event":"t.x","data":1}')
grep -q '"id"' <<<"$id" || fail "emit answered $id"
curl -fsS "$base/api/history?channel=deb" | grep -q '"t.x"' || fail "history lacks the event"
grep -q '"level"' "$work/err.log" || fail "the packaged config should log JSON lines"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq forrealtime >/dev/null 2>&1 || fail "purge"
[ ! -e /usr/bin/forrealtime ] || fail "the binary survived the purge"
[ ! -e /etc/forrealtime/config.json ] || fail "the conffile survived the purge"
getent passwd forrealtime >/dev/null && fail "the system user survived the purge"
echo "deb test: installed, started as $user on $probe, emitted, stopped (exit 0), purged"
