#!/usr/bin/env bash
# Installs the release build into a temporary prefix and builds + runs tests/package against it:
#  1. the whole package: the gateway, and a host that uses header-only Asio itself;
#  2. COMPONENTS core with hiredis and libpq hidden from CMake and pkg-config (libcrypto stays:
#     JWT verification is part of core);
#  3. the control: COMPONENTS redis in that environment must fail, so step 2 really ran
#     without them.
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build/release --prefix "$prefix" >/dev/null
cmake -S tests/package -B "$prefix/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$prefix/build" >/dev/null
"$prefix/build/consumer"
"$prefix/build/consumer_asio"

mkdir -p "$prefix/no-pkgconfig"
hide=(-DCMAKE_DISABLE_FIND_PACKAGE_PostgreSQL=ON)
PKG_CONFIG_LIBDIR="$prefix/no-pkgconfig" PKG_CONFIG_PATH="" \
  cmake -S tests/package -B "$prefix/core" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DPARTS=core \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache "${hide[@]}" >/dev/null
cmake --build "$prefix/core" >/dev/null
"$prefix/core/consumer_core"
if PKG_CONFIG_LIBDIR="$prefix/no-pkgconfig" PKG_CONFIG_PATH="" \
  cmake -S tests/package -B "$prefix/redis" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DPARTS=redis \
  "${hide[@]}" >"$prefix/redis.log" 2>&1; then
  echo "COMPONENTS redis was found with hiredis hidden: the core check proves nothing" >&2
  exit 1
fi
echo "components ok (redis refused without hiredis, core found)"
