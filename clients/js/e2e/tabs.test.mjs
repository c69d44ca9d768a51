/**
 * In a real Chromium against the real gateway: a component written for the original
 * package runs with only its import changed; ten tabs of one origin share one stream, and
 * when the leader tab closes another takes over with every event seen exactly once.
 */

import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { emit, launchBrowser, sleep, startGateway } from "./harness.mjs";

const nonce = () => Math.random().toString(36).slice(2, 8);

async function streams(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(/^forrealtime_streams(?:\{[^}]*\})? (\d+)/m);
  assert.ok(m, "no forrealtime_streams in /metrics");
  return Number(m[1]);
}

async function waitFor(what, fn, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let browser;
let gw;
before(async () => {
  browser = await launchBrowser();
  gw = await startGateway({ name: "tabs" });
});
after(async () => {
  await browser?.close();
  await gw?.stop();
});

describe("parity with the original package", () => {
  test("the original README's component runs with only its import line changed", async () => {
    const p = await browser.context.newPage();
    p.on("pageerror", (e) => console.error("[original] page error:", e.message));
    await p.goto(`${gw.base}/original.html`);
    await p.waitForFunction(() => document.body.textContent.includes("Status: connected"));
    const n = nonce();
    await emit(gw.base, "default", "notification.alert", `deploy ${n}`);
    await emit(gw.base, "default", "chat.message", { text: `hi ${n}`, user: "ada" });
    await p.waitForFunction(
      (n) => {
        const pre = document.querySelector("pre");
        if (!pre) return false;
        const shown = JSON.parse(pre.textContent);
        return shown.includes(`alert: deploy ${n}`) && shown.includes(`ada: hi ${n}`);
      },
      n,
      { timeout: 20_000 },
    );
    await p.close();
  });
});

describe("history() and emit() from the page", () => {
  test("emit() stores, history({ last }) gives the newest N oldest first, and acking the newest of them starts the stream right after", async () => {
    const p = await browser.context.newPage();
    p.on("pageerror", (e) => console.error("[history] page error:", e.message));
    const channel = `hist-${nonce()}`;
    // A page subscribed elsewhere, so that the client is live; the test drives __client.
    await p.goto(`${gw.base}/tabs.html?channels=other-${nonce()}`);
    const ids = await p.evaluate(async (channel) => {
      const c = window.__client.channel(channel);
      const ids = [];
      for (let k = 0; k < 30; k++) ids.push(await c.emit("tab.msg", { k }));
      return ids;
    }, channel);
    assert.equal(new Set(ids).size, 30);
    const last = await p.evaluate((channel) => window.__client.channel(channel).history({ last: 20 }), channel);
    assert.deepEqual(last.map((m) => m.id), ids.slice(-20));
    assert.deepEqual(last.map((m) => m.data.k), [...Array(20).keys()].map((k) => k + 10));
    // The SSR hand-over: ack the newest rendered id, subscribe, then emit: only the new one arrives.
    const got = await p.evaluate(async ({ channel, newest }) => {
      const c = window.__client;
      c.ack(channel, newest);
      const seen = [];
      const stop = c.subscribe({ channels: [channel], onData: (e) => seen.push(e.data.k) });
      const deadline = Date.now() + 10_000;
      while (c.getStatus() !== "connected" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await c.channel(channel).emit("tab.msg", { k: 30 });
      while (!seen.includes(30) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500)); // a replay or a duplicate would arrive now
      stop();
      return seen;
    }, { channel, newest: last.at(-1).id });
    assert.deepEqual(got, [30]);
    await p.close();
  });
});

describe("one connection per browser", () => {
  test("ten tabs make one stream; closing the leader hands over; every tab sees every event once", async () => {
    const channel = `tabs-${nonce()}`;
    const pages = [];
    for (let i = 0; i < 10; i++) {
      const p = await browser.context.newPage();
      p.on("pageerror", (e) => console.error(`[tab ${i}] page error:`, e.message));
      await p.goto(`${gw.base}/tabs.html?channels=${channel}`);
      pages.push(p);
    }
    const roles = () => Promise.all(pages.map((p) => p.evaluate(() => window.__client.role())));
    const statuses = () => Promise.all(pages.map((p) => p.evaluate(() => window.__client.getStatus())));
    await waitFor("every tab connected", async () => (await statuses()).every((s) => s === "connected"));
    let r = await roles();
    assert.equal(r.filter((x) => x === "leader").length, 1, `roles: ${r}`);
    assert.equal(r.filter((x) => x === "follower").length, 9, `roles: ${r}`);
    await waitFor("one stream at the gateway", async () => (await streams(gw.base)) === 1);
    assert.equal(await streams(gw.base), 1);

    const sent = [];
    const send = async (k) => {
      const id = await emit(gw.base, channel, "tab.msg", { k });
      sent.push(id);
    };
    for (let k = 0; k < 5; k++) await send(k);
    const got = (p) => p.evaluate(() => window.__events.map((e) => e.id));
    await waitFor("first events in every tab", async () =>
      (await Promise.all(pages.map(got))).every((ids) => ids.length >= 5),
    );

    // Close the leader while events keep coming.
    const leaderIndex = r.indexOf("leader");
    const [leader] = pages.splice(leaderIndex, 1);
    await leader.close({ runBeforeUnload: false });
    for (let k = 5; k < 10; k++) await send(k);
    await waitFor("a new leader", async () => (await roles()).filter((x) => x === "leader").length === 1);
    for (let k = 10; k < 15; k++) await send(k);

    await waitFor(
      "every event in every remaining tab",
      async () => (await Promise.all(pages.map(got))).every((ids) => ids.length >= sent.length),
      30_000,
    );
    await sleep(500); // a duplicate would arrive now
    for (const [i, p] of pages.entries()) {
      const ids = await got(p);
      assert.deepEqual(ids, sent, `tab ${i} saw ${JSON.stringify(ids)}, want ${JSON.stringify(sent)}`);
    }
    r = await roles();
    assert.equal(r.filter((x) => x === "leader").length, 1, `roles after handover: ${r}`);
    await waitFor("still one stream", async () => (await streams(gw.base)) === 1);
    for (const p of pages) await p.close();
    await waitFor("no stream left", async () => (await streams(gw.base)) === 0);
  });
});

/**
 * A refused credential in a real browser. The gateway's own auth is configured elsewhere;
 * here a small front server answers 401 to /api/realtime unless `token=good`, and passes
 * everything else (the stream included) to the gateway. EventSource only says `error`:
 * the client must find the 401 with its probe, show it, not knock again with the refused
 * token, and connect once getToken gives another.
 */
describe("credentials", () => {
  test("401 becomes an unauthorized error; the refused token is not retried; a new one connects", async () => {
    const seen = [];
    const front = createServer((req, res) => {
      const url = new URL(req.url, "http://front");
      if (url.pathname === "/api/realtime") {
        const token = url.searchParams.get("token");
        seen.push({ token, accept: req.headers.accept ?? "" });
        if (token !== "good") {
          res.writeHead(401, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "invalid token" }));
          return;
        }
      }
      const up = httpRequest(
        `${gw.base}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: new URL(gw.base).host } },
        (upRes) => {
          res.writeHead(upRes.statusCode, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    await new Promise((r) => front.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${front.address().port}`;
    const p = await browser.context.newPage();
    try {
      p.on("pageerror", (e) => console.error("[auth] page error:", e.message));
      const channel = `auth-${nonce()}`;
      await p.goto(`${base}/tabs.html?channels=${channel}&tokens=bad,bad,good`);
      await p.waitForFunction(() => window.__client.getError()?.kind === "unauthorized", null, { timeout: 20_000 });
      assert.equal(await p.evaluate(() => window.__client.getStatus()), "error");
      assert.deepEqual(await p.evaluate(() => window.__client.getError()), {
        kind: "unauthorized",
        status: 401,
        message: "invalid token",
      });
      await p.waitForFunction(() => window.__client.getStatus() === "connected", null, { timeout: 30_000 });
      // The bad token reached the server twice: the EventSource and the probe, never again.
      const bad = seen.filter((s) => s.token === "bad");
      assert.equal(bad.length, 2, JSON.stringify(seen));
      assert.deepEqual(await p.evaluate(() => window.__asked), ["bad", "bad", "good"]);
      const id = await emit(gw.base, channel, "auth.ok", { n: 1 });
      await p.waitForFunction((id) => window.__events.some((e) => e.id === id), id, { timeout: 20_000 });
    } finally {
      await p.close();
      const closed = new Promise((r) => front.close(r));
      front.closeAllConnections?.();
      await closed;
    }
  });
});
