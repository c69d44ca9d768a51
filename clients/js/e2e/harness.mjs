/**
 * What the browser tests need around them: a gateway process on a free loopback port
 * serving the built demo, a Chromium with a fresh profile, and small helpers to emit
 * over HTTP and to read the demo's DOM. Everything started here is stopped by `stop*`.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const here = dirname(fileURLToPath(import.meta.url));
export const demoDist = resolve(here, "../demo/dist");
export const artifacts = resolve(here, "artifacts");
mkdirSync(artifacts, { recursive: true });

export const BIN = process.env.FORREALTIME_BIN;
export const REDIS_URL = process.env.FORREALTIME_E2E_REDIS_URL;
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `forrealtime serve` and waits until it answers HTTP. */
export async function startGateway({ port, args = [], name = "gateway" } = {}) {
  if (!BIN) throw new Error("FORREALTIME_BIN is not set");
  port ??= await freePort();
  const argv = ["serve", "--host", "127.0.0.1", "--port", String(port), "--static", demoDist, ...args];
  const script = /\.(mjs|js)$/.test(BIN);
  const log = openSync(join(artifacts, `${name}-${port}.log`), "a");
  const child = spawn(script ? process.execPath : BIN, script ? [BIN, ...argv] : argv, {
    stdio: ["ignore", log, log],
  });
  let exited = null;
  // Never outlive the test process, however it ends.
  const reap = () => child.kill("SIGKILL");
  process.on("exit", reap);
  child.on("exit", (code, signal) => {
    exited = { code, signal };
    process.off("exit", reap);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`gateway exited at start (${JSON.stringify(exited)}); see ${name}-${port}.log`);
    try {
      const res = await fetch(`${base}/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`gateway did not answer on ${base} within 15 s`);
      }
      await sleep(100);
    }
  }
  return {
    base,
    port,
    child,
    /** Ends the process: SIGKILL for a crash, SIGTERM for a stop. */
    async stop(signal = "SIGTERM") {
      if (exited) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "forrealtime-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 900, height: 640 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function emit(base, channel, event, data) {
  const res = await fetch(`${base}/api/emit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, event, data }),
  });
  if (res.status !== 200) throw new Error(`emit answered ${res.status}: ${await res.text()}`);
  const body = await res.json();
  if (typeof body.id !== "string") throw new Error(`emit answered no id: ${JSON.stringify(body)}`);
  return body.id;
}

/** Opens a demo page (index.html or svelte.html) as `user` and waits until it is connected. */
export async function openDemo(context, base, { page = "index.html", user }) {
  const p = await context.newPage();
  p.on("pageerror", (e) => console.error(`[${user}] page error:`, e.message));
  await p.goto(`${base}/${page}?user=${encodeURIComponent(user)}`);
  await waitForStatus(p, "connected");
  return p;
}

export async function waitForStatus(page, status, timeout = 20_000) {
  await page.waitForFunction(
    (s) => document.querySelector('[data-testid="status"]')?.textContent === s,
    status,
    { timeout },
  );
}

/** The chat as shown: [{id, user, text}] in page order. */
export function messages(page) {
  return page.$$eval('[data-testid="messages"] li[data-id]', (lis) =>
    lis.map((li) => ({
      id: li.getAttribute("data-id"),
      user: li.querySelector(".user")?.textContent ?? "",
      text: li.querySelector(".text")?.textContent ?? "",
    })),
  );
}

/** Waits until every text in `texts` is shown; returns the messages. */
export async function waitForTexts(page, texts, timeout = 30_000) {
  await page.waitForFunction(
    (want) => {
      const shown = new Set(
        [...document.querySelectorAll('[data-testid="messages"] li[data-id] .text')].map((n) => n.textContent),
      );
      return want.every((t) => shown.has(t));
    },
    texts,
    { timeout },
  );
  return messages(page);
}

export async function say(page, text) {
  await page.fill('[data-testid="composer"] input[name="text"]', text);
  await page.click('[data-testid="composer"] button[type="submit"]');
}

export { sleep };
