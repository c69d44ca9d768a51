#!/usr/bin/env bash
# Typed events across languages: dumps the C++ schema of chat_events.cpp and a Zod schema
# (zod/events.mjs, through z.toJSONSchema) as schema files, runs `forrealtime codegen ts` on
# both, type-checks sample.ts against them with tsc (its @ts-expect-error lines must fail),
# then runs the Zod test against the real gateway. Needs the C++ build (FORREALTIME_BUILD_DIR,
# default build/release; or FORREALTIME_BIN and FORREALTIME_SCHEMA_DUMP) and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FORREALTIME_BUILD_DIR:-$root/build/release}
bin=${FORREALTIME_BIN:-$build/src/cli/forrealtime}
dump=${FORREALTIME_SCHEMA_DUMP:-$build/tests/codegen/chat_events_schema}
for f in "$bin" "$dump"; do
  [ -x "$f" ] || { echo "missing $f: build first (cmake --build --preset release)"; exit 1; }
done

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
if [ ! -f "$root/clients/js/dist/index.d.ts" ]; then
  (cd "$root/clients/js" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } &&
    npm run --silent build:lib)
fi

mkdir -p generated
"$dump" > generated/cpp.schema.json
"$bin" codegen ts --schema generated/cpp.schema.json --out generated/cpp-events.ts
node --input-type=module -e '
  import { events } from "./zod/events.mjs";
  import { writeSchemaFile } from "./zod/schema-file.mjs";
  writeSchemaFile(events, "generated/zod.schema.json");'
"$bin" codegen ts --schema generated/zod.schema.json --out generated/zod-events.ts

echo "tsc: sample.ts against the generated types"
node_modules/.bin/tsc -p tsconfig.json
echo "tsc: ok"
FORREALTIME_BIN="$bin" node --test zod/zod.test.mjs
