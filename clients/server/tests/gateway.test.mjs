/**
 * @forrealtime/server against the real gateway (FORREALTIME_BIN): typed emit, channels,
 * batches and history, the bearer token, the Zod check, retries on 503/504 with one
 * Idempotency-Key across the tries, and newest-N history. A small proxy in front of the
 * gateway makes it answer 503 or lose an answer on purpose.
 */

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { Realtime, RealtimeServerError } from "../dist/index.js";
import { nonce, startGateway, startProxy } from "./harness.mjs";

let gw;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw?.stop();
});

describe("against the gateway", () => {
  test("emit, channel().emit, batch and history", async () => {
    const rt = new Realtime({ url: gw.base });
    const ch = `room-${nonce()}`;
    const a = await rt.emit("chat.message", { text: "one" }, { channel: ch });
    const b = await rt.channel(ch).emit("chat.message", { text: "two" });
    const ids = await rt.channel(ch).batch([
      { event: "chat.message", data: { text: "three" } },
      { event: "notification.alert", data: "four" },
    ]);
    assert.equal(ids.length, 2);
    const past = await rt.channel(ch).history();
    assert.deepEqual(past.map((m) => m.id), [a, b, ...ids]);
    assert.deepEqual(past.map((m) => m.data), [{ text: "one" }, { text: "two" }, { text: "three" }, "four"]);
    assert.deepEqual(past.map((m) => m.channel), [ch, ch, ch, ch]);
    const page = await rt.channel(ch).history({ after: b, limit: 1 });
    assert.deepEqual(page.map((m) => m.id), [ids[0]]);
    const dflt = await rt.emit("x.y", 1);
    assert.ok((await rt.history({ after: "0-0" })).some((m) => m.id === dflt), "default channel");
  });

  test("a refusal is a RealtimeServerError with the status and the gateway's reason", async () => {
    const rt = new Realtime({ url: gw.base });
    const err = await rt.emit("nonamespace", 1).catch((e) => e);
    assert.ok(err instanceof RealtimeServerError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.serverError ?? "", /namespace/);
    assert.equal(err.attempts, 1, "a 400 is not retried");
  });

  test("a schema of Zod types checks payloads before sending", async () => {
    const schema = { chat: { message: z.object({ text: z.string() }) } };
    const ch = `zod-${nonce()}`;
    const rt = new Realtime({ url: gw.base, schema });
    await rt.channel(ch).emit("chat.message", { text: "ok" });
    await assert.rejects(rt.channel(ch).emit("chat.message", { text: 3 }), /expected string|Invalid/i);
    await assert.rejects(rt.channel(ch).emit("chat.nope", {}), /not an event of the schema/);
    assert.equal((await rt.channel(ch).history()).length, 1);
  });

  test("the emit token goes in Authorization: Bearer", async () => {
    const locked = await startGateway(["--emit-token", "s3cret"]);
    try {
      const none = await new Realtime({ url: locked.base }).emit("a.b", 1).catch((e) => e);
      assert.equal(none.status, 401);
      let calls = 0;
      const rt = new Realtime({ url: locked.base, token: async () => (calls++, "s3cret") });
      assert.match(await rt.emit("a.b", 1), /^\d+-\d+$/);
      assert.equal(calls, 1);
    } finally {
      await locked.stop();
    }
  });

  test("a JWT with an emit grant (gateway with --jwt-secret-file): granted channels only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "forrealtime-sdk-jwt-"));
    const secret = randomBytes(48).toString("base64");
    writeFileSync(join(dir, "secret"), secret);
    const locked = await startGateway(["--jwt-secret-file", join(dir, "secret"), "--jwt-audience", "realtime"]);
    try {
      const b64 = (x) => Buffer.from(JSON.stringify(x)).toString("base64url");
      const now = Math.floor(Date.now() / 1000);
      const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({
        sub: "ada",
        aud: "realtime",
        iat: now,
        exp: now + 300,
        realtime: { subscribe: ["user:{sub}"], emit: ["user:{sub}"] },
      })}`;
      const jwt = `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
      const rt = new Realtime({ url: locked.base, token: jwt });
      const id = await rt.channel("user:ada").emit("a.b", { n: 1 });
      assert.match(id, /^\d+-\d+$/);
      assert.deepEqual((await rt.channel("user:ada").history()).map((m) => m.id), [id]);
      const other = await rt.channel("user:bob").emit("a.b", { n: 2 }).catch((e) => e);
      assert.ok(other instanceof RealtimeServerError, String(other));
      assert.equal(other.status, 403);
      assert.equal(other.attempts, 1, "a 403 is not retried");
      const none = await new Realtime({ url: locked.base }).channel("user:ada").emit("a.b", 1).catch((e) => e);
      assert.equal(none.status, 401);
    } finally {
      await locked.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("retries 503 and 504 with backoff, one Idempotency-Key across the tries", async () => {
    const proxy = await startProxy(gw.base, (n) => (n === 1 ? { status: 503 } : n === 2 ? { status: 504 } : "forward"));
    try {
      const ch = `retry-${nonce()}`;
      const rt = new Realtime({ url: proxy.base, retry: { initialMs: 10 } });
      const id = await rt.channel(ch).emit("a.b", { n: 1 });
      assert.equal(proxy.seen.length, 3);
      const keys = proxy.seen.map((r) => r.headers["idempotency-key"]);
      assert.ok(keys[0] && keys.every((k) => k === keys[0]), `keys: ${keys}`);
      assert.deepEqual((await rt.channel(ch).history()).map((m) => m.id), [id]);
      // A second emit has a key of its own; a batch carries one too.
      await rt.channel(ch).emit("a.b", { n: 2 });
      await rt.channel(ch).batch([{ event: "a.b", data: 3 }]);
      const later = proxy.seen
        .slice(3)
        .filter((r) => r.method === "POST")
        .map((r) => r.headers["idempotency-key"]);
      assert.equal(later.length, 2);
      assert.equal(new Set([keys[0], ...later]).size, 3);
    } finally {
      await proxy.close();
    }
  });

  test("gives up after `attempts` and says how many", async () => {
    const proxy = await startProxy(gw.base, () => ({ status: 503 }));
    try {
      const rt = new Realtime({ url: proxy.base, retry: { attempts: 3, initialMs: 5 } });
      const err = await rt.emit("a.b", 1).catch((e) => e);
      assert.equal(err.status, 503);
      assert.equal(err.attempts, 3);
      assert.equal(proxy.seen.length, 3);
    } finally {
      await proxy.close();
    }
  });

  test("a retry after a lost answer stores the event once (the gateway honours Idempotency-Key)", async () => {
    // The same key twice gives the same id, and one stored event.
    const probeCh = `idem-probe-${nonce()}`;
    const send = (key) =>
      fetch(`${gw.base}/api/emit`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify({ channel: probeCh, event: "a.b", data: 1 }),
      }).then((r) => r.json());
    const key = `k-${nonce()}`;
    const [first, second] = [await send(key), await send(key)];
    assert.equal(second.id, first.id, "the gateway stored a second event for a repeated Idempotency-Key");
    assert.equal((await (await fetch(`${gw.base}/api/history?channel=${probeCh}`)).json()).length, 1);
    let posts = 0;
    const proxy = await startProxy(gw.base, (_n, req) =>
      req.method === "POST" && [1, 3].includes(++posts) ? "forward-then-504" : "forward",
    );
    try {
      const ch = `idem-${nonce()}`;
      const rt = new Realtime({ url: proxy.base, retry: { initialMs: 10 } });
      const id = await rt.channel(ch).emit("a.b", { once: true });
      assert.equal(posts, 2);
      assert.deepEqual((await rt.channel(ch).history()).map((m) => m.id), [id]);
      // A batch whose answer is lost: each item stored once (keys `<header>:<index>`).
      const ids = await rt.channel(ch).batch([
        { event: "a.b", data: 1 },
        { event: "a.b", data: 2, idempotencyKey: `own-${nonce()}` },
      ]);
      assert.equal(posts, 4);
      assert.deepEqual((await rt.channel(ch).history()).map((m) => m.id), [id, ...ids]);
    } finally {
      await proxy.close();
    }
  });

  test("history({ last }) gives the newest N, oldest first", async () => {
    const rt = new Realtime({ url: gw.base });
    const ch = `last-${nonce()}`;
    const ids = await rt.channel(ch).batch(Array.from({ length: 30 }, (_, i) => ({ event: "a.b", data: i })));
    const got = await rt.channel(ch).history({ last: 20 });
    assert.deepEqual(got.map((m) => m.id), ids.slice(-20));
  });

  test("require() of the CommonJS build works too", () => {
    const require = createRequire(import.meta.url);
    const cjs = require("../dist/cjs/index.js");
    assert.equal(typeof cjs.Realtime, "function");
    assert.equal(typeof new cjs.Realtime({ url: gw.base }).emit, "function");
  });
});

describe("handle()", () => {
  test("passes the stream through after the middleware; a middleware Response short-circuits", async () => {
    const { handle } = await import("../dist/index.js");
    const realtime = new Realtime({ url: gw.base });
    const ch = `handle-${nonce()}`;
    const seen = [];
    const handler = handle({
      realtime,
      middleware: ({ request, channels }) => {
        seen.push(channels);
        if (request.headers.get("authorization") !== "Bearer ok") return new Response("no", { status: 401 });
      },
    });
    const refused = await handler(new Request(`http://app/api/realtime?channel=${ch}`));
    assert.equal(refused.status, 401);
    const ac = new AbortController();
    const res = await handler(
      new Request(`http://app/api/realtime?channel=${ch}&channel=${ch}`, {
        headers: { authorization: "Bearer ok" },
        signal: ac.signal,
      }),
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /text\/event-stream/);
    const reader = res.body.getReader();
    let text = "";
    const id = await (async () => {
      while (!text.includes('"type":"connected"')) text += new TextDecoder().decode((await reader.read()).value);
      return realtime.channel(ch).emit("a.b", { live: true });
    })();
    while (!text.includes(id)) text += new TextDecoder().decode((await reader.read()).value);
    assert.match(text, /"live":true/);
    ac.abort();
    await reader.cancel().catch(() => {});
    assert.deepEqual(seen, [[ch], [ch]]);
  });
});
