/**
 * The demo in a real Chromium against the real gateway (FORREALTIME_BIN): pages chat with
 * each other, and after losing their connection they show every missed event exactly
 * once. Run through e2e/run.mjs, which checks the environment first.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  REDIS_URL,
  artifacts,
  emit,
  launchBrowser,
  messages,
  openDemo,
  say,
  sleep,
  startGateway,
  waitForStatus,
  waitForTexts,
} from "./harness.mjs";

const nonce = () => Math.random().toString(36).slice(2, 8);

/** Asserts that no id is shown twice and that each text in `texts` is shown exactly once. */
function assertOnce(list, texts) {
  const ids = list.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `an event is shown twice: ${JSON.stringify(ids)}`);
  for (const t of texts) {
    const n = list.filter((m) => m.text === t).length;
    assert.equal(n, 1, `"${t}" is shown ${n} times`);
  }
}

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("chat between pages", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ name: "chat" });
  });
  after(async () => {
    await gw?.stop();
  });

  test("two React pages chat, the bell rings, and a screenshot is saved", async () => {
    const alice = await openDemo(browser.context, gw.base, { user: "alice" });
    const bob = await openDemo(browser.context, gw.base, { user: "bob" });
    const n = nonce();
    await say(alice, `hello bob ${n}`);
    await waitForTexts(bob, [`hello bob ${n}`]);
    await say(bob, `hi alice ${n}`);
    const seenByAlice = await waitForTexts(alice, [`hello bob ${n}`, `hi alice ${n}`]);
    assertOnce(seenByAlice, [`hello bob ${n}`, `hi alice ${n}`]);
    assert.deepEqual(
      seenByAlice.filter((m) => m.text.endsWith(n)).map((m) => m.user),
      ["alice", "bob"],
    );

    await emit(gw.base, "notifications", "notification.alert", { text: `deploy finished ${n}` });
    for (const p of [alice, bob]) {
      await p.waitForFunction(
        () => document.querySelector('[data-testid="bell-count"]')?.textContent === "1",
      );
    }
    await alice.screenshot({ path: join(artifacts, "demo.png") });
    await alice.click('[data-testid="bell"]');
    await alice.waitForSelector(`[data-testid="alerts"] li:has-text("deploy finished ${n}")`);
    await alice.screenshot({ path: join(artifacts, "demo-bell-open.png") });

    // A page opened later shows the history once, then live messages.
    const carol = await openDemo(browser.context, gw.base, { user: "carol" });
    await say(carol, `late hello ${n}`);
    const seenByCarol = await waitForTexts(carol, [`hello bob ${n}`, `hi alice ${n}`, `late hello ${n}`]);
    assertOnce(seenByCarol, [`hello bob ${n}`, `hi alice ${n}`, `late hello ${n}`]);
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  test("a Svelte page and a React page chat with each other", async () => {
    const sven = await openDemo(browser.context, gw.base, { page: "svelte.html", user: "sven" });
    const rita = await openDemo(browser.context, gw.base, { user: "rita" });
    const n = nonce();
    await say(sven, `from svelte ${n}`);
    await waitForTexts(rita, [`from svelte ${n}`]);
    await say(rita, `from react ${n}`);
    const seen = await waitForTexts(sven, [`from svelte ${n}`, `from react ${n}`]);
    assertOnce(seen, [`from svelte ${n}`, `from react ${n}`]);
    await emit(gw.base, "notifications", "notification.alert", { text: `svelte bell ${n}` });
    await sven.waitForFunction(
      () => document.querySelector('[data-testid="bell-count"]')?.textContent === "1",
    );
    await sven.screenshot({ path: join(artifacts, "demo-svelte.png") });
    await Promise.all([sven.close(), rita.close()]);
  });
});

/**
 * The page loses its stream without the gateway dying: `--max-duration 2` ends every
 * stream with a `reconnect` event, and page.route refuses the page's reconnects while
 * events are emitted. Unblocked, the page must show each missed event exactly once.
 */
describe("missed events while disconnected", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ name: "missed", args: ["--max-duration", "2", "--ping-interval", "1"] });
  });
  after(async () => {
    await gw?.stop();
  });

  for (const page of ["index.html", "svelte.html"]) {
    test(`${page}: every missed event shown exactly once after reconnecting`, async () => {
      const p = await openDemo(browser.context, gw.base, { page, user: `offline-${page}` });
      const n = nonce();
      const before = [`before ${n}`];
      await emit(gw.base, "chat", "chat.message", { user: "server", text: before[0] });
      await waitForTexts(p, before);

      let refused = 0;
      await p.route("**/api/realtime*", (route) => {
        refused += 1;
        return route.abort("connectionrefused");
      });
      await waitForStatus(p, "error", 10_000); // the stream ended and the retry was refused
      assert.ok(refused > 0, "no reconnect was refused");
      const missed = [];
      for (let i = 0; i < 5; i++) {
        missed.push(`missed ${i} ${n}`);
        await emit(gw.base, "chat", "chat.message", { user: "server", text: missed[i] });
      }
      await sleep(500);
      assert.equal((await messages(p)).filter((m) => m.text.endsWith(n)).length, 1, "blocked page got events");
      await p.unroute("**/api/realtime*");

      const seen = await waitForTexts(p, [...before, ...missed], 40_000);
      assertOnce(seen, [...before, ...missed]);
      // Through a few more server-ended streams (each a reconnect with last_ack), still once.
      const live = `live after ${n}`;
      await emit(gw.base, "chat", "chat.message", { user: "server", text: live });
      await sleep(4500);
      const later = await waitForTexts(p, [live]);
      assertOnce(later, [...before, ...missed, live]);
      const mine = later.filter((m) => m.text.endsWith(n)).map((m) => m.text);
      assert.deepEqual(mine, [...before, ...missed, live], "events out of order");
      await p.close();
    });
  }
});

/**
 * Away for longer than the server keeps history (`--history-max-length 5`): the page says
 * that some messages are gone (the `history_lost` event) and shows the ones still kept,
 * each once.
 */
describe("history lost while away", () => {
  let gw;
  before(async () => {
    gw = await startGateway({
      name: "lost",
      args: ["--max-duration", "2", "--history-max-length", "5"],
    });
  });
  after(async () => {
    await gw?.stop();
  });

  for (const page of ["index.html", "svelte.html"]) {
    test(`${page}: history_lost is shown and the kept events arrive once`, async () => {
      const p = await openDemo(browser.context, gw.base, { page, user: `lost-${page}` });
      const n = nonce();
      await emit(gw.base, "chat", "chat.message", { user: "server", text: `seen ${n}` });
      await waitForTexts(p, [`seen ${n}`]);
      await p.route("**/api/realtime*", (route) => route.abort("connectionrefused"));
      await waitForStatus(p, "error", 10_000);
      const sent = [];
      for (let i = 0; i < 12; i++) {
        sent.push(`away ${i} ${n}`);
        await emit(gw.base, "chat", "chat.message", { user: "server", text: sent[i] });
      }
      assert.equal(await p.$('[data-testid="history-lost"]'), null);
      await p.unroute("**/api/realtime*");
      await p.waitForSelector('[data-testid="history-lost"]', { timeout: 40_000 });
      const kept = sent.slice(-5);
      const seen = await waitForTexts(p, kept);
      assertOnce(seen, [`seen ${n}`, ...kept]);
      for (const gone of sent.slice(0, 7)) {
        assert.ok(!seen.some((m) => m.text === gone), `"${gone}" was trimmed yet shown`);
      }
      if (page === "index.html") await p.screenshot({ path: join(artifacts, "demo-history-lost.png") });
      await p.close();
    });
  }
});

/**
 * The gateway dies (SIGKILL) and comes back on the same port. With the memory store the
 * history before the crash is gone, so what must survive is what is emitted after the
 * restart while the page is still away; with Redis (FORREALTIME_E2E_REDIS_URL) events
 * emitted before the crash that the page never saw must arrive too.
 */
describe("gateway killed and restarted", () => {
  async function crashAndRecover(page, args, { emitBeforeCrash }) {
    let gw = await startGateway({ name: "restart", args });
    try {
      const p = await openDemo(browser.context, gw.base, { page, user: `crash-${page}` });
      const n = nonce();
      const seenFirst = [`up ${n}`];
      await emit(gw.base, "chat", "chat.message", { user: "server", text: seenFirst[0] });
      await waitForTexts(p, seenFirst);

      await p.route("**/api/realtime*", (route) => route.abort("connectionrefused"));
      const missed = [];
      if (emitBeforeCrash) {
        for (let i = 0; i < 3; i++) {
          missed.push(`before crash ${i} ${n}`);
          await emit(gw.base, "chat", "chat.message", { user: "server", text: missed.at(-1) });
        }
      }
      await gw.stop("SIGKILL");
      await waitForStatus(p, "error", 10_000);
      gw = await startGateway({ name: "restart", port: gw.port, args });
      for (let i = 0; i < 3; i++) {
        missed.push(`after restart ${i} ${n}`);
        await emit(gw.base, "chat", "chat.message", { user: "server", text: missed.at(-1) });
      }
      await p.unroute("**/api/realtime*");
      await waitForStatus(p, "connected", 40_000);
      const seen = await waitForTexts(p, [...seenFirst, ...missed], 40_000);
      assertOnce(seen, [...seenFirst, ...missed]);
      await p.close();
    } finally {
      await gw.stop();
    }
  }

  test("memory store: events emitted after the restart arrive once", async () => {
    await crashAndRecover("index.html", [], { emitBeforeCrash: false });
  });

  const skip = REDIS_URL
    ? false
    : "FORREALTIME_E2E_REDIS_URL is not set: the Redis restart test needs a redis-server (e.g. redis://127.0.0.1:6379)";
  if (skip) console.log(`# SKIP redis restart tests: ${skip}`);
  for (const page of ["index.html", "svelte.html"]) {
    test(`redis store (${page}): events from before the crash and after the restart arrive once`, { skip }, async () => {
      // A prefix of its own keeps this run's streams apart from anything else in that Redis.
      const prefix = `forrealtime-e2e-${nonce()}:`;
      await crashAndRecover(page, ["--redis", REDIS_URL, "--key-prefix", prefix], {
        emitBeforeCrash: true,
      });
    });
  }
});
