/**
 * Authorization in a real Chromium against the real gateway (issue 11): a page on another
 * origin with a session cookie subscribes through forward auth (the auth service here answers
 * the gateway's POST from the cookie), a page without one gets 401 and the client shows its
 * typed `unauthorized` error, and a stream ending at a JWT's `exp` resumes with the token
 * `getToken` gives next: every event once, in order. The page loads @forrealtime/client from
 * dist/ (built by scripts/test.sh). Run through e2e/run.mjs.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { here, launchBrowser, sleep, startGateway } from "./harness.mjs";

const dist = resolve(here, "../dist");
const SECRET = "browser-auth-secret-browser-auth-secret";
const EMIT = "emit-token-for-the-browser-test";

const b64 = (x) => Buffer.from(JSON.stringify(x)).toString("base64url");
function mint(claims) {
  const input = b64({ alg: "HS256", typ: "JWT" }) + "." + b64(claims);
  return input + "." + createHmac("sha256", SECRET).update(input).digest("base64url");
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>auth</title>
<script type="module">
import { createRealtimeClient } from "/dist/index.js";
const q = new URLSearchParams(location.search);
window.__events = [];
window.__statuses = [];
window.__tokens = 0;
const client = createRealtimeClient({
  url: q.get("gw") + "/api/realtime",
  withCredentials: true,
  ...(q.get("token") === "1"
    ? { getToken: async () => { window.__tokens++; return (await fetch("/token")).text(); } }
    : {}),
});
client.subscribeStatus((s) => window.__statuses.push(s));
client.subscribe({ channels: ["room:1"], onData: (e) => window.__events.push(e.id) });
window.__client = client;
</script>`;

/** The page's origin and the auth service in one: the page, dist/, /token, and POST /check. */
function startApp() {
  const checks = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (req.method === "POST" && url.pathname === "/check") {
      let body = "";
      for await (const c of req) body += c;
      const { operation, channels } = JSON.parse(body);
      const session = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
      checks.push({ operation, channels, session, origin: req.headers.origin });
      if (session !== "alice") return res.writeHead(401).end();
      const ok = operation !== "emit" && channels.every((c) => c.startsWith("room:"));
      res.writeHead(ok ? 200 : 403, { "content-type": "application/json" });
      return res.end(JSON.stringify({ ttl: 60, subject: "alice" }));
    }
    if (url.pathname === "/page.html") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(PAGE);
    }
    if (url.pathname === "/token") {
      const now = Math.floor(Date.now() / 1000);
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" });
      return res.end(mint({ sub: "bob", exp: now + 2, realtime: { subscribe: ["room:*"] } }));
    }
    if (url.pathname.startsWith("/dist/")) {
      const file = normalize(join(dist, url.pathname.slice(6)));
      if (!file.startsWith(dist)) return res.writeHead(404).end();
      try {
        const text = readFileSync(file);
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end(text);
      } catch {
        return res.writeHead(404).end();
      }
    }
    res.writeHead(404).end();
  });
  return new Promise((ok) =>
    server.listen(0, "127.0.0.1", () =>
      ok({ base: `http://127.0.0.1:${server.address().port}`, checks, close: () => server.close() }),
    ),
  );
}

async function emitOne(base, n) {
  const res = await fetch(`${base}/api/emit`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${EMIT}` },
    body: JSON.stringify({ channel: "room:1", event: "t.e", data: { n } }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text).id;
}

async function waitFor(page, fn, arg, timeout = 15_000) {
  await page.waitForFunction(fn, arg, { timeout });
}

let browser, app, gw, keyDir;
before(async () => {
  keyDir = mkdtempSync(join(tmpdir(), "forrealtime-auth-e2e-"));
  writeFileSync(join(keyDir, "secret"), SECRET);
  app = await startApp();
  gw = await startGateway({
    name: "auth",
    args: [
      "--auth-url", `${app.base}/check`,
      "--jwt-secret-file", join(keyDir, "secret"),
      "--jwt-leeway", "0",
      "--cors-origin", app.base,
      "--emit-token", EMIT,
    ],
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await gw?.stop();
  app?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe("authorization in the browser", () => {
  test("a page with a session cookie subscribes through forward auth", async () => {
    const { context } = browser;
    await context.clearCookies();
    await context.addCookies([{ name: "session", value: "alice", url: app.base }]);
    const page = await context.newPage();
    await page.goto(`${app.base}/page.html?gw=${encodeURIComponent(gw.base)}`);
    await waitFor(page, () => window.__client?.getStatus() === "connected");
    const id = await emitOne(gw.base, 1);
    await waitFor(page, (id) => window.__events.includes(id), id);
    const asked = app.checks.find((c) => c.operation === "subscribe" && c.session === "alice");
    assert.ok(asked, `the auth service was asked with the cookie: ${JSON.stringify(app.checks)}`);
    assert.deepEqual(asked.channels, ["room:1"]);
    assert.equal(asked.origin, app.base);
    await page.close();
  });

  test("a page without a session gets 401 and the client shows the unauthorized error", async () => {
    const { context } = browser;
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(`${app.base}/page.html?gw=${encodeURIComponent(gw.base)}`);
    await waitFor(page, () => window.__client?.getStatus() === "error").catch(async (e) => {
      const seen = await page.evaluate(() => [window.__statuses, window.__client?.getError()]);
      throw new Error(`no error state: ${JSON.stringify(seen)} ${JSON.stringify(app.checks)}`, { cause: e });
    });
    const error = await page.evaluate(() => window.__client.getError());
    assert.equal(error?.kind, "unauthorized", JSON.stringify(error));
    assert.equal(error?.status, 401);
    // Refused: nothing is delivered, and the client does not hammer the gateway.
    const before = app.checks.length;
    await emitOne(gw.base, 2);
    await sleep(1500);
    assert.deepEqual(await page.evaluate(() => window.__events), []);
    assert.ok(app.checks.length - before <= 1, `retried ${app.checks.length - before} times`);
    await page.close();
  });

  test("a stream ending at the token's exp resumes with getToken's next token, nothing lost", async () => {
    const { context } = browser;
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(`${app.base}/page.html?token=1&gw=${encodeURIComponent(gw.base)}`);
    await waitFor(page, () => window.__client?.getStatus() === "connected");
    // Events all along, across at least two expiries (a token lives 2 s).
    const ids = [];
    const until = Date.now() + 5000;
    for (let n = 0; Date.now() < until; ++n) {
      ids.push(await emitOne(gw.base, n));
      await sleep(100);
    }
    await waitFor(page, (last) => window.__events.includes(last), ids.at(-1));
    const got = await page.evaluate(() => window.__events);
    assert.equal(new Set(got).size, got.length, "no event twice");
    assert.deepEqual(got, ids, "every event once, in order");
    const tokens = await page.evaluate(() => window.__tokens);
    assert.ok(tokens >= 2, `getToken was asked again at expiry (${tokens} calls)`);
    await page.close();
  });
});
