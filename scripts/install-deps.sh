#!/usr/bin/env bash
# Installs what building and testing forrealtime needs, from Debian 12's packages, and only what
# is missing (so a second run is instant). Usage: scripts/install-deps.sh [build|test]
#   build  the compiler toolchain and libraries, plus Node.js for the demo page
#   test   all of build, plus the servers and browser the tests start (redis, postgresql, chromium)
set -euo pipefail
what=${1:-build}

pkgs=(g++ cmake ninja-build ccache pkg-config git curl ca-certificates
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
      libspdlog-dev libcli11-dev libhiredis-dev libvalijson-dev libpq-dev
      libgtest-dev libgmock-dev libbenchmark-dev libssl-dev)
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
if [ "$what" = test ]; then
  pkgs+=(redis-server redis-tools postgresql chromium procps psmisc clang libclang-rt-14-dev
        golang-go   # golang-go: the Go snippet in examples/go, README's Go snippets
        python3-jwt python3-flask   # README's Python snippets (tests/docs/readme_auth.py)
        nginx-light caddy openssl   # the reverse-proxy recipes' test (tests/ops/proxy.sh)
        podman runc netavark iptables mmdebstrap)  # the container image's test (tests/ops/image.sh)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The tests start their own nginx and Caddy on free ports; the packages' system services (on
# ports 80 and 443) are not wanted on a build machine.
for svc in nginx caddy; do
  if [[ " ${missing[*]} " == *" $svc"* ]] && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
