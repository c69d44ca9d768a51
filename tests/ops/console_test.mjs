#!/usr/bin/env node
/**
 * The live console in Chromium (playwright-core from clients/js, Debian's /usr/bin/chromium):
 * `forrealtime serve` with no --static and an --admin-token serves the console at `/`; the page
 * asks for the token, then loads with no console errors; while a load runs (emits and streams
 * from this script) the charts and the rate cards move; the try-it panel subscribes, emits and
 * shows the event; a screenshot goes to ARTIFACT_DIR/console.png.
 *
 *   node tests/ops/console_test.mjs BIN ARTIFACT_DIR
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const require = createRequire(join(root, "clients/js/package.json"));
const { chromium } = require("playwright-core");

const [bin, artifacts = join(root, "build/release/artifacts")] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const TOKEN = "console-test-token";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
};

const gw = spawn(bin, ["serve", "--port", "0", "--admin-token", TOKEN, "--log-level", "warn"], {
  stdio: ["ignore", "pipe", "inherit"],
});
process.on("exit", () => gw.kill("SIGKILL"));
const base = await new Promise((ok, fail) => {
  let out = "";
  gw.stdout.on("data", (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) ok(m[1]);
  });
  gw.on("exit", (c) => fail(new Error(`gateway exited (${c})`)));
});

// Cache headers and the admin credential, before the browser.
{
  const r = await fetch(`${base}/`);
  check(r.status === 200 && r.headers.get("content-type")?.startsWith("text/html"), "GET / is the console's HTML");
  check(r.headers.get("cache-control") === "no-cache" && !!r.headers.get("etag"), "GET / has Cache-Control: no-cache and an ETag");
  const again = await fetch(`${base}/`, { headers: { "if-none-match": r.headers.get("etag") } });
  check(again.status === 304, "If-None-Match answers 304");
  const js = await fetch(`${base}/console/console.js`);
  check(js.status === 200 && js.headers.get("content-type")?.startsWith("text/javascript"), "console.js is served as JavaScript");
  check((await fetch(`${base}/api/admin/stats`)).status === 401, "the stats need the admin token");
}

const profile = mkdtempSync(join(tmpdir(), "forrealtime-console-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  viewport: { width: 1200, height: 1000 },
});
const errors = [];
let loadRunning = true;
try {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // The one expected error: the first stats request answers 401 before the token is typed.
    if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  // Refuse anything that is not this gateway: the console must work offline.
  await context.route("**/*", (route) =>
    route.request().url().startsWith(base) || route.request().url().startsWith("data:") ? route.continue() : route.abort(),
  );
  await page.goto(`${base}/`);
  await page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
  check(true, "the console asks for the admin token");
  await page.fill("#token", TOKEN);
  await page.click("#login-form button");
  await page.waitForSelector("#main:not([hidden])", { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelector("#version").textContent.startsWith("v"));
  const version = await page.textContent("#version");
  // The one version number: project(forrealtime VERSION ...) in CMakeLists.txt.
  const projectVersion = readFileSync(join(root, "CMakeLists.txt"), "utf8").match(
    /project\(forrealtime VERSION ([0-9.]+)/,
  )?.[1];
  check(version === `v${projectVersion}`, `the console shows the project's version (${version}, CMake ${projectVersion})`);

  // A load: 3 streams on two channels, and emits at ~100/s for 4 s.
  const streams = [];
  for (const ch of ["load:a", "load:a", "load:b"]) {
    const ac = new AbortController();
    const res = await fetch(`${base}/api/realtime?channel=${ch}`, { signal: ac.signal });
    const reader = res.body.getReader();
    (async () => { try { for (;;) { const { done } = await reader.read(); if (done) break; } } catch {} })();
    streams.push(ac);
  }
  const load = (async () => {
    let i = 0;
    while (loadRunning) {
      await fetch(`${base}/api/emit`, {
        method: "POST",
        body: JSON.stringify([{ channel: "load:a", event: "load.tick", data: i }, { channel: "load:b", event: "load.tick", data: i }]),
      });
      i++;
      await sleep(20);
    }
  })();
  const before = await page.evaluate(() => document.querySelector("#c-rate").toDataURL());
  await sleep(4000);
  const after = await page.evaluate(() => document.querySelector("#c-rate").toDataURL());
  check(before !== after, "the events chart moved while the load ran");
  const rateIn = Number.parseFloat(await page.textContent("#v-in"));
  check(rateIn > 10, `events in /s shows the load (${rateIn})`);
  const out = Number.parseFloat(await page.textContent("#v-out"));
  check(out > 10, `deliveries /s shows the load (${out})`);
  const subs = await page.$$eval("#t-subs tbody tr", (trs) => trs.map((tr) => tr.textContent));
  check(subs.some((t) => t.startsWith("load:a") && t.endsWith("2")), `top channels by subscribers lists load:a with 2 (${subs.join(" | ")})`);
  const rates = await page.$$eval("#t-rate tbody tr", (trs) => trs.map((tr) => tr.textContent));
  check(rates.some((t) => t.startsWith("load:")), `top channels by rate lists the loaded channels (${rates.join(" | ")})`);
  check((await page.textContent("#v-streams")) !== "–", "the streams card shows a number");

  // Try it: subscribe, emit, see the event.
  await page.click("#sub-button");
  await page.waitForFunction(() => document.querySelector("#sub-state").textContent.startsWith("subscribed"), null, { timeout: 10_000 });
  await page.fill("#emit-data", '{"text":"hello from the test"}');
  await page.click("#emit-button");
  await page.waitForFunction(() => document.querySelector("#emit-result").textContent.startsWith("stored as"), null, { timeout: 10_000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#events li")].some((li) => li.textContent.includes("hello from the test")), null, { timeout: 10_000 });
  check(true, "try it: the emitted event shows up in the subscribed list");
  await page.screenshot({ path: join(artifacts, "console.png"), fullPage: true });
  console.log(`screenshot: ${join(artifacts, "console.png")}`);
  loadRunning = false;
  await load;
  for (const s of streams) s.abort();
} catch (e) {
  errors.push(`test: ${e.stack ?? e}`);
} finally {
  loadRunning = false;
  await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  gw.kill("SIGTERM");
}
check(errors.length === 0, `no console or page errors${errors.length ? ": " + errors.join("; ") : ""}`);
console.log(failures ? `console test: ${failures} FAILED` : "console test: all passed");
process.exit(failures ? 1 : 0);
