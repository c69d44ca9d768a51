#!/usr/bin/env bash
# docs/openapi.yaml against the real gateway (tests/ops/openapi_test.mjs): the document is valid
# OpenAPI 3.1, every route of the gateway is in it and nothing else, and the real answers of
# every operation match its statuses and schemas. Installs its npm tools (ajv, yaml, the OpenAPI
# schema validator; tests/ops/package-lock.json) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${FORREALTIME_BIN:-$PWD/build/release/src/cli/forrealtime}
if ! (cd tests/ops && npm ls --silent >/dev/null 2>&1); then
  (cd tests/ops && npm ci --no-audit --no-fund >/dev/null)
fi
exec node tests/ops/openapi_test.mjs "$bin" docs/openapi.yaml
