// The scenario (scenario.js) on the package's ESM build, in another runtime than the test's
// own Node: `deno run --allow-net=127.0.0.1 run.mjs GATEWAY FLAKY CHANNEL`, or
// `node run.mjs ...` with another Node. Prints the report as one JSON line.
import * as sdk from "../../dist/index.js";
import "./scenario.js";

const deno = globalThis.Deno;
const [gateway, flaky, channel] = deno ? deno.args : process.argv.slice(2);
const report = await globalThis.forrealtimeScenario(sdk, { gateway, flaky, channel });
report.runtime = deno ? `deno ${deno.version.deno}` : `node ${process.versions.node}`;
if (!deno) {
  // require() of the CommonJS build, on this Node too.
  const { createRequire } = await import("node:module");
  report.cjsRealtime = typeof createRequire(import.meta.url)("../../dist/cjs/index.js").Realtime;
}
console.log(JSON.stringify(report));
