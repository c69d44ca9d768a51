// The C++ gateway (`forrealtime serve --redis`) and a TypeScript forrealtime 0.1.13 server
// share one Redis: events emitted by either reach subscribers of both, history of either shows
// both, and the package's own client (forrealtime/client) gets its replay from our gateway
// after a reconnect. Run by ../run.sh (which starts redis-server and sets REDIS_URL).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EventSource } from "eventsource";
import { createRealtimeClient } from "forrealtime/client";
import {
  PREFIX, emitViaGateway, freePort, redisClient, sleep, startGateway, startTsServer, subscribe,
  waitFor,
} from "../lib.mjs";

let gateway;
let ts;

before(async () => {
  gateway = await startGateway();
  ts = await startTsServer();
});

after(async () => {
  await gateway?.stop();
  await ts?.close();
});

const strip = (e) => ({ id: e.id, channel: e.channel, event: e.event, data: e.data });

test("an event emitted by the TypeScript server reaches subscribers of both", async () => {
  const channel = "room:from-ts";
  const ours = subscribe(gateway.url, [channel]);
  const theirs = subscribe(ts.url, [channel]);
  try {
    await waitFor(() => ours.connected() && theirs.connected(), "both subscriptions");
    await ts.realtime.channel(channel).emit("chat.message", { text: "hi", from: "ts" });
    await waitFor(() => ours.events().length === 1 && theirs.events().length === 1,
      "the event on both servers");
    assert.deepEqual(strip(ours.events()[0]), strip(theirs.events()[0]));
    assert.deepEqual(ours.events()[0].data, { text: "hi", from: "ts" });
    assert.equal(ours.events()[0].event, "chat.message");
  } finally {
    ours.close();
    theirs.close();
  }
});

test("an event emitted through the gateway reaches subscribers of both", async () => {
  const channel = "room:from-cpp";
  const ours = subscribe(gateway.url, [channel]);
  const theirs = subscribe(ts.url, [channel]);
  try {
    await waitFor(() => ours.connected() && theirs.connected(), "both subscriptions");
    const id = await emitViaGateway(gateway.url, channel, "chat.message", { text: "yo", from: "cpp" });
    await waitFor(() => ours.events().length === 1 && theirs.events().length === 1,
      "the event on both servers");
    assert.deepEqual(strip(theirs.events()[0]),
      { id, channel, event: "chat.message", data: { text: "yo", from: "cpp" } });
    assert.deepEqual(strip(ours.events()[0]), strip(theirs.events()[0]));
  } finally {
    ours.close();
    theirs.close();
  }
});

test("history of either shows events of both, stored in the shared format", async () => {
  const channel = "room:history";
  await ts.realtime.channel(channel).emit("chat.message", { text: "one", from: "ts" });
  const id2 = await emitViaGateway(gateway.url, channel, "chat.message", { text: "two", from: "cpp" });
  await ts.realtime.channel(channel).emit("note.plain", [1, "x", null]);

  const theirs = await ts.realtime.channel(channel).history();
  const res = await fetch(`${gateway.url}/api/history?channel=${encodeURIComponent(channel)}`);
  assert.equal(res.status, 200);
  const ours = await res.json();
  assert.equal(theirs.length, 3);
  assert.deepEqual(ours.map(strip), theirs.map(strip));
  assert.equal(ours[1].id, id2);
  assert.deepEqual(ours.map((e) => e.data.text ?? e.data), ["one", "two", [1, "x", null]]);

  // Byte level: one field `message` holding {"channel","event","data"}, under the prefix.
  const redis = redisClient();
  try {
    const entries = await redis.xrange(`${PREFIX}${channel}`, "-", "+");
    assert.equal(entries.length, 3);
    for (const [, fields] of entries) {
      assert.equal(fields.length, 2);
      assert.equal(fields[0], "message");
      assert.deepEqual(Object.keys(JSON.parse(fields[1])), ["channel", "event", "data"]);
    }
  } finally {
    redis.disconnect();
  }
});

test("a plain EventSource resumes from last_ack on either server", async () => {
  const channel = "room:ack";
  await ts.realtime.channel(channel).emit("chat.message", { text: "a", from: "ts" });
  const first = await ts.realtime.channel(channel).history();
  const ack = first[0].id;
  await emitViaGateway(gateway.url, channel, "chat.message", { text: "b", from: "cpp" });
  await ts.realtime.channel(channel).emit("chat.message", { text: "c", from: "ts" });
  const ours = subscribe(gateway.url, [channel], { [channel]: ack });
  const theirs = subscribe(ts.url, [channel], { [channel]: ack });
  try {
    await waitFor(() => ours.events().length === 2 && theirs.events().length === 2, "the replay");
    assert.deepEqual(ours.events().map(strip), theirs.events().map(strip));
    assert.deepEqual(ours.events().map((e) => e.data.text), ["b", "c"]);
  } finally {
    ours.close();
    theirs.close();
  }
});

test("forrealtime/client gets the replay from our gateway after a reconnect", async () => {
  const channel = "room:client";
  // Its own gateway on a fixed port, so that it can come back at the same address.
  const port = await freePort();
  let gw = await startGateway({ port });
  const client = createRealtimeClient({
    api: { url: `${gw.url}/api/realtime` },
    maxReconnectAttempts: 30,
    eventSourceFactory: (url, init) => new EventSource(url, init),
  });
  const got = [];
  const statuses = [];
  client.subscribeStatus((s) => statuses.push(s));
  const unsubscribe = client.subscribe({
    channels: [channel],
    onData: (payload) => got.push(payload),
  });
  try {
    await waitFor(() => client.getStatus() === "connected", "the client to connect");
    await sleep(100); // the `connected` message carries no cursor yet: the stream is empty
    await emitViaGateway(gw.url, channel, "chat.message", { text: "1", from: "cpp" });
    await waitFor(() => got.length === 1, "the first live event");

    await gw.stop("SIGKILL");
    await waitFor(() => client.getStatus() !== "connected", "the client to notice");
    // Emitted while our gateway is down, by the TypeScript peer on the shared Redis.
    await ts.realtime.channel(channel).emit("chat.message", { text: "2", from: "ts" });
    await ts.realtime.channel(channel).emit("chat.message", { text: "3", from: "ts" });

    gw = await startGateway({ port });
    await waitFor(() => got.length >= 3, "the replay after the reconnect", 20000);
    await emitViaGateway(gw.url, channel, "chat.message", { text: "4", from: "cpp" });
    await waitFor(() => got.length >= 4, "live events after the replay");
    await sleep(200);
    assert.deepEqual(got.map((e) => e.data.text), ["1", "2", "3", "4"]);
    const ids = got.map((e) => e.id);
    assert.equal(new Set(ids).size, 4);
    assert.ok(statuses.includes("disconnected") || statuses.includes("connecting"));
  } finally {
    unsubscribe();
    client.destroy();
    await gw.stop();
  }
});
