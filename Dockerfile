# syntax=docker/dockerfile:1
# The forrealtime gateway as an image, built from this repository:
#   docker build -t forrealtime .
#   docker run --rm -p 8787:8787 forrealtime                       # memory store
#   docker run --rm -p 8787:8787 -e FORREALTIME_REDIS=redis://redis:6379 forrealtime
#   docker run --rm -p 9000:9000 --ulimit nofile=65536:65536 forrealtime --port 9000
# Stage 1 builds the Debian package with CPack (the `release` preset, as CI builds it); stage 2
# installs that package on a slim Debian 12 (so the image has exactly the package's dependencies,
# its system user and its conffile) and runs as that user. Settings: /etc/forrealtime/config.json
# (the package's, listening on 0.0.0.0:8787 here; mount your own over it), overridden by the
# environment (FORREALTIME_PORT, FORREALTIME_REDIS, FORREALTIME_EMIT_TOKEN, ...) and by arguments
# after the image name. The HEALTHCHECK, `forrealtime healthcheck --process 1`, probes /livez
# where the running gateway (PID 1) listens by those same settings, wherever the port was set.
# Open files: one per stream; the systemd unit sets LimitNOFILE=65536, a container gets the
# engine's default unless run with --ulimit nofile=65536:65536 (docs/deploy/README.md).
# tests/ops/image.sh builds this file with podman and runs the image (probes, user, health
# check, emit and subscribe through the published port, SIGTERM).

FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build ccache pkg-config dpkg-dev file \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev \
      libspdlog-dev libcli11-dev libhiredis-dev libvalijson-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json LICENSE CHANGELOG.md README.md ./
COPY cmake cmake
COPY include include
COPY src src
COPY packaging packaging
COPY examples examples
COPY web web
# The compiler cache: a BuildKit cache mount keeps it between builds. A build may hand in a
# cache of its own instead (a volume, and --build-arg CCACHE_DIR=...): tests/ops/image.sh
# passes the host's, so the objects CI's release build just compiled are reused (same compiler,
# flags and, with CCACHE_BASEDIR, the same relative paths).
ARG CCACHE_DIR=/root/.cache/ccache
ENV CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake --preset release -DFORREALTIME_TESTS=OFF -DFORREALTIME_BENCH=OFF >/dev/null \
 && cmake --build --preset release --target forrealtime-bin \
 && cd build/release && cpack -G DEB

FROM debian:12-slim
COPY --from=build /src/build/release/forrealtime_*.deb /tmp/
# In a container the gateway listens on every interface (the conffile says so, not the
# environment, so that a mounted config file's host and port take effect); set
# FORREALTIME_EMIT_TOKEN (or put the gateway behind something that checks callers) before
# exposing it.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/forrealtime_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/forrealtime_*.deb \
 && sed -i 's/"host": "127.0.0.1"/"host": "0.0.0.0"/' /etc/forrealtime/config.json \
 && grep -q '"host": "0.0.0.0"' /etc/forrealtime/config.json \
 && forrealtime check-config /etc/forrealtime/config.json
USER forrealtime:forrealtime
EXPOSE 8787
STOPSIGNAL SIGTERM
# The probe reads PID 1's arguments and environment and the config file they name: a port set by
# `--port` after the image name, by FORREALTIME_PORT or in a mounted config file is followed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/bin/forrealtime", "healthcheck", "--process", "1", "--timeout", "2"]
ENTRYPOINT ["/usr/bin/forrealtime", "serve", "--config", "/etc/forrealtime/config.json"]
