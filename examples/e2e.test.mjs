/**
 * The examples end to end against the real gateway (FORREALTIME_BIN): each app server
 * (Hono on Node, Bun.serve, Next.js, TanStack Start) serves the page, passes /api/realtime through to the gateway
 * and emits with @forrealtime/server; a Chromium page loads the history, subscribes, sends
 * from its form and shows what the Python and Go snippets emit, each event once.
 */

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
// playwright-core comes from the client package's install (clients/js/scripts/test.sh).
const { chromium } = createRequire(join(repo, "clients/js/package.json"))("playwright-core");
const BIN = process.env.FORREALTIME_BIN;
if (!BIN) throw new Error("FORREALTIME_BIN is not set");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const BUN = join(here, "node_modules/.bin/bun");
const GO = process.env.GO ?? "go";
const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nonce = () => Math.random().toString(36).slice(2, 8);
const go = await run(GO, ["version"]).then(() => true, () => false);

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Starts a process that serves HTTP on `port` and waits until `path` answers. */
async function startServer(cmd, args, { port, env = {}, path = "/" }) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] });
  const reap = () => child.kill("SIGKILL");
  process.on("exit", reap);
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited !== null) throw new Error(`${cmd} exited with ${exited}`);
    try {
      await (await fetch(base + path)).arrayBuffer();
      break;
    } catch {
      if (i > 200) throw new Error(`${cmd} did not answer on ${base}`);
      await sleep(100);
    }
  }
  return {
    base,
    async stop() {
      process.off("exit", reap);
      if (exited !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

let gw;
let browser;
let profile;
before(async () => {
  const port = await freePort();
  gw = await startServer(BIN, ["serve", "--host", "127.0.0.1", "--port", String(port)], { port, path: "/healthz" });
  // More than 20 messages in the channel before any page opens: each page must start from
  // the newest 20 (history `last: 20`), not from the oldest.
  const filler = Array.from({ length: 25 }, (_, i) => ({ channel: "chat", event: "chat.message", data: { user: "filler", text: `filler ${i}` } }));
  const r = await fetch(`${gw.base}/api/emit`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(filler) });
  assert.equal(r.status, 200, await r.text());
  profile = mkdtempSync(join(tmpdir(), "forrealtime-examples-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});
after(async () => {
  await browser?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  await gw?.stop();
});

const texts = (page) => page.$$eval("#messages li", (lis) => lis.map((li) => li.querySelector(".text").textContent));

async function waitForTexts(page, want) {
  await page.waitForFunction(
    (want) => {
      const shown = [...document.querySelectorAll("#messages li .text")].map((n) => n.textContent);
      return want.every((t) => shown.includes(t));
    },
    want,
    { timeout: 30_000 },
  );
  const shown = await texts(page);
  for (const t of want) assert.equal(shown.filter((x) => x === t).length, 1, `"${t}" shown ${shown.filter((x) => x === t).length} times`);
}

const NEXT = join(here, "node_modules/.bin/next");
const servers = [
  { name: "Hono (Node)", cmd: process.execPath, args: () => [join(here, "hono/server.mjs")] },
  {
    name: "Bun.serve",
    cmd: BUN,
    args: () => [join(here, "bun/server.ts")],
    skip: !existsSync(BUN) && "bun is not installed (npm ci in examples/)",
  },
  {
    name: "Next.js App Router",
    cmd: NEXT,
    args: (port) => ["start", join(here, "nextjs"), "-H", "127.0.0.1", "-p", String(port)],
    skip: !existsSync(join(here, "nextjs/.next/BUILD_ID")) && "the Next.js example is not built (examples/test.sh builds it)",
    ssr: true,
  },
  {
    // The Node server `vite build` writes (nitro's node-server preset).
    name: "TanStack Start",
    cmd: process.execPath,
    args: () => [join(here, "tanstack-start/.output/server/index.mjs")],
    env: { HOST: "127.0.0.1" },
    skip: !existsSync(join(here, "tanstack-start/.output/server/index.mjs")) && "the TanStack Start example is not built (examples/test.sh builds it)",
    ssr: true,
  },
];

for (const s of servers) {
  describe(s.name, { skip: s.skip }, () => {
    let app;
    before(async () => {
      const port = await freePort();
      app = await startServer(s.cmd, s.args(port), {
        port,
        env: { PORT: String(port), FORREALTIME_URL: gw.base, NEXT_TELEMETRY_DISABLED: "1", ...s.env },
      });
    });
    after(async () => {
      await app?.stop();
    });

    test("the page shows history, then live events from its form, the SDK and Python/Go, each once", async () => {
      const n = nonce();
      // Something in the history before the page opens (through the app's SDK route).
      await fetch(`${app.base}/api/send`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user: "server", text: `earlier ${n}` }),
      });
      if (s.ssr) {
        // Rendered on the server: the history is in the HTML before any script runs.
        const html = await (await fetch(`${app.base}/`)).text();
        assert.ok(html.includes(`earlier ${n}`), "the server-rendered page lacks the history");
      }
      const page = await browser.newPage();
      page.on("pageerror", (e) => console.error(`[${s.name}] page error:`, e.message));
      await page.goto(app.base + "/");
      await page.waitForFunction(() => document.getElementById("status").textContent === "connected");
      await waitForTexts(page, [`earlier ${n}`]);
      // The newest 20 and nothing older: the stream starts after them, so nothing is replayed.
      await sleep(500);
      assert.equal((await texts(page)).length, 20, `the page shows ${JSON.stringify(await texts(page))}`);
      await page.fill('input[name="text"]', `from the form ${n}`);
      await page.click('button[type="submit"]');
      await waitForTexts(page, [`earlier ${n}`, `from the form ${n}`]);
      await run("python3", [join(here, "python/emit.py"), "chat", JSON.stringify({ user: "py", text: `python ${n}` })], {
        env: { ...process.env, FORREALTIME_URL: gw.base },
      });
      await waitForTexts(page, [`earlier ${n}`, `from the form ${n}`, `python ${n}`]);
      await page.close();
    });
  });
}

describe("snippets", () => {
  test("Python (standard library) emits through the gateway", async () => {
    const ch = `py-${nonce()}`;
    const { stdout } = await run("python3", [join(here, "python/emit.py"), ch, '{"user":"py","text":"x"}'], {
      env: { ...process.env, FORREALTIME_URL: gw.base },
    });
    const id = stdout.trim();
    assert.match(id, /^\d+-\d+$/);
    const past = await (await fetch(`${gw.base}/api/history?channel=${ch}`)).json();
    assert.deepEqual(past.map((m) => [m.id, m.data.text]), [[id, "x"]]);
  });

  test("Go (standard library) emits through the gateway", { skip: !go && "no Go toolchain (apt-get install golang-go)" }, async () => {
    const ch = `go-${nonce()}`;
    const cache = join(tmpdir(), "forrealtime-go-cache");
    const { stdout } = await run(GO, ["run", join(here, "go/emit.go"), ch, '{"user":"go","text":"y"}'], {
      env: { ...process.env, FORREALTIME_URL: gw.base, GOCACHE: cache, GO111MODULE: "off" },
      timeout: 240_000,
    });
    const id = stdout.trim();
    assert.match(id, /^\d+-\d+$/);
    const past = await (await fetch(`${gw.base}/api/history?channel=${ch}`)).json();
    assert.deepEqual(past.map((m) => [m.id, m.data.text]), [[id, "y"]]);
  });
});
