/**
 * In a real Chromium against the real gateway: a component written for the original
 * package runs with only its import changed; ten tabs of one origin share one stream, and
 * when the leader tab closes another takes over with every event seen exactly once.
 */

import assert from "node:assert/strict";
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
