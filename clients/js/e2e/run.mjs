#!/usr/bin/env node
/**
 * Entry point of the browser tests. The gateway under test comes from FORREALTIME_BIN;
 * without it the run fails loudly, unless FORREALTIME_E2E_OPTIONAL=1 makes that a skip.
 * The demo must be built (demo/dist) and Chromium installed (/usr/bin/chromium or
 * CHROMIUM_PATH); scripts/test.sh does both.
 */

import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const optional = process.env.FORREALTIME_E2E_OPTIONAL === "1";

function missing(what) {
  const banner = "!".repeat(78);
  console.error(`\n${banner}\n!! e2e: ${what}\n${banner}\n`);
  if (optional) {
    console.error("FORREALTIME_E2E_OPTIONAL=1: the browser tests are SKIPPED, not passed.");
    process.exit(0);
  }
  console.error("Set FORREALTIME_E2E_OPTIONAL=1 to skip instead of failing.");
  process.exit(1);
}

const bin = process.env.FORREALTIME_BIN;
if (!bin) {
  missing(
    "FORREALTIME_BIN is not set; point it at the gateway, e.g. " +
      "FORREALTIME_BIN=$PWD/build/release/src/cli/forrealtime",
  );
}
try {
  accessSync(bin, /\.(mjs|js)$/.test(bin) ? constants.R_OK : constants.X_OK);
} catch {
  missing(`FORREALTIME_BIN=${bin} is not an executable file`);
}
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium)) missing(`no Chromium at ${chromium} (apt-get install -y chromium)`);
if (!existsSync(resolve(here, "../demo/dist/index.html"))) {
  missing("the demo is not built (npm run build:demo)");
}

const result = spawnSync(
  process.execPath,
  [
    "--test",
    "--test-concurrency=1",
    "--test-reporter=spec",
    ...(process.env.FORREALTIME_E2E_ONLY
      ? process.env.FORREALTIME_E2E_ONLY.split(",").map((f) => join(here, f))
      : [join(here, "demo.test.mjs"), join(here, "tabs.test.mjs"), join(here, "auth.test.mjs")]),
  ],
  { stdio: "inherit", env: { ...process.env, FORREALTIME_BIN: resolve(bin) } },
);
process.exit(result.status ?? 1);
