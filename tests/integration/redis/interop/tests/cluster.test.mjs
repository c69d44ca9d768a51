// Issue 12 on a Redis Cluster (3 masters + 3 replicas, started by ../run_cluster.sh): our
// gateway on redis-cluster:// and a TypeScript forrealtime 0.1.13 server whose ioredis adapter
// is given an ioredis Cluster client (the package's public API, no code change) share the
// cluster. Channels are picked so that their keys live on every master: events emitted by
// either server reach subscribers of the other, history of either shows both writers, each
// key sits on its slot's master in the format of PROTOCOL.md section 6, and a subscription of
// our gateway across slots resumes from its acks with every event once.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Redis from "ioredis";
import calculateSlot from "cluster-key-slot";
import {
  CLUSTER_NODES, PREFIX, emitViaGateway, newRedis, startGateway, startTsServer, subscribe,
  waitFor,
} from "../lib.mjs";

let gateway;
let ts;
let cluster;

before(async () => {
  assert.ok(CLUSTER_NODES.length > 0, "run by run_cluster.sh (REDIS_CLUSTER_NODES)");
  gateway = await startGateway();
  ts = await startTsServer();
  cluster = newRedis();
  await new Promise((resolve, reject) => {
    cluster.once("ready", resolve);
    cluster.once("error", reject);
  });
});

after(async () => {
  await gateway?.stop();
  await ts?.close();
  cluster?.disconnect();
});

const strip = (e) => ({ id: e.id, channel: e.channel, event: e.event, data: e.data });

/** host:port of the master that serves `channel`'s key, from the cluster's own slot map. */
async function masterOf(channel) {
  const slot = calculateSlot(`${PREFIX}${channel}`);
  const ranges = await cluster.cluster("SLOTS");
  for (const [from, to, [host, port]] of ranges)
    if (slot >= from && slot <= to) return `${host}:${port}`;
  throw new Error(`no master for slot ${slot}`);
}

/** `perMaster` channel names (with `stem`) on each master. */
async function channelsOnEveryMaster(stem, perMaster) {
  const masters = new Set((await cluster.cluster("SLOTS")).map((r) => `${r[2][0]}:${r[2][1]}`));
  assert.equal(masters.size, 3);
  const byMaster = new Map([...masters].map((m) => [m, []]));
  for (let i = 0; [...byMaster.values()].some((l) => l.length < perMaster); ++i) {
    const c = `${stem}:${i}`;
    const list = byMaster.get(await masterOf(c));
    if (list.length < perMaster) list.push(c);
  }
  return [...byMaster.values()].flat();
}

const texts = (events, channel) =>
  events.filter((e) => e.channel === channel).map((e) => e.data.text);

test("TS emits on every master reach one gateway subscription across slots, once, in order; it resumes from its acks", async () => {
  const channels = await channelsOnEveryMaster("room:spread", 2);
  const ours = subscribe(gateway.url, channels);
  try {
    await waitFor(() => ours.connected(), "the gateway subscription");
    for (let round = 0; round < 3; ++round)
      for (const c of channels)
        await ts.realtime.channel(c).emit("chat.message", { text: `${c}#${round}`, from: "ts" });
    await waitFor(() => ours.events().length === channels.length * 3, "18 events");
  } finally {
    ours.close();
  }
  const acks = {};
  for (const c of channels) {
    assert.deepEqual(texts(ours.events(), c), [0, 1, 2].map((r) => `${c}#${r}`));
    // The ids are those the cluster holds, on the key's master.
    const stored = await cluster.xrange(`${PREFIX}${c}`, "-", "+");
    assert.deepEqual(ours.events().filter((e) => e.channel === c).map((e) => e.id),
      stored.map(([id]) => id));
    acks[c] = stored[2][0];
  }

  // Away: the TS server emits two more on each channel; back with the acks: exactly those.
  for (let round = 3; round < 5; ++round)
    for (const c of channels)
      await ts.realtime.channel(c).emit("chat.message", { text: `${c}#${round}`, from: "ts" });
  const back = subscribe(gateway.url, channels, acks);
  try {
    await waitFor(() => back.events().length === channels.length * 2, "the replay of 12");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(back.events().length, channels.length * 2);
    for (const c of channels) assert.deepEqual(texts(back.events(), c), [`${c}#3`, `${c}#4`]);
  } finally {
    back.close();
  }
});

test("gateway emits on every master reach TS subscribers (one per channel) with the gateway's ids", async () => {
  const channels = await channelsOnEveryMaster("room:to-ts", 1);
  const theirs = channels.map((c) => subscribe(ts.url, [c]));
  try {
    await waitFor(() => theirs.every((s) => s.connected()), "the TS subscriptions");
    const ids = new Map(channels.map((c) => [c, []]));
    for (let round = 0; round < 3; ++round)
      for (const c of channels)
        ids.get(c).push(await emitViaGateway(gateway.url, c, "chat.message",
          { text: `${c}#${round}`, from: "cpp" }));
    await waitFor(() => theirs.every((s) => s.events().length === 3), "3 events on each");
    channels.forEach((c, i) => {
      assert.deepEqual(theirs[i].events().map((e) => e.id), ids.get(c));
      assert.deepEqual(texts(theirs[i].events(), c), [0, 1, 2].map((r) => `${c}#${r}`));
    });
  } finally {
    for (const s of theirs) s.close();
  }
});

test("history across: both servers show both writers' events, stored on the slot's master as PROTOCOL.md section 6 says", async () => {
  const channels = await channelsOnEveryMaster("room:hist", 1);
  for (const c of channels) {
    await ts.realtime.channel(c).emit("chat.message", { text: "one", from: "ts" });
    await emitViaGateway(gateway.url, c, "chat.message", { text: "two", from: "cpp" });
    await ts.realtime.channel(c).emit("chat.message", { text: "three", from: "ts" });
  }
  for (const c of channels) {
    const theirs = await ts.realtime.channel(c).history();
    const res = await fetch(`${gateway.url}/api/history?channel=${encodeURIComponent(c)}`);
    assert.equal(res.status, 200);
    const ours = await res.json();
    assert.deepEqual(ours.map(strip), theirs.map(strip));
    assert.deepEqual(ours.map((e) => e.data.text), ["one", "two", "three"]);

    // On the master itself, without redirection: a plain connection answers, no MOVED.
    const [host, port] = (await masterOf(c)).split(":");
    const node = new Redis({ host, port: Number(port) });
    try {
      const entries = await node.xrange(`${PREFIX}${c}`, "-", "+");
      assert.deepEqual(entries.map(([id]) => id), ours.map((e) => e.id));
      for (const [, fields] of entries) {
        assert.equal(fields.length, 2);
        assert.equal(fields[0], "message");
        assert.deepEqual(Object.keys(JSON.parse(fields[1])), ["channel", "event", "data"]);
      }
    } finally {
      node.disconnect();
    }
  }
});

test("hash tags: a TS subscription to several channels needs them in one slot (its XREAD spans its channels); ours does not", async () => {
  const tagged = ["{room:7}:chat", "{room:7}:presence"];
  assert.equal(calculateSlot(`${PREFIX}${tagged[0]}`), calculateSlot(`${PREFIX}${tagged[1]}`));
  const spread = await channelsOnEveryMaster("room:cross", 1);
  const theirsTagged = subscribe(ts.url, tagged);
  const theirsSpread = subscribe(ts.url, spread);
  const ours = subscribe(gateway.url, [...tagged, ...spread]);
  try {
    await waitFor(() => theirsTagged.connected() && theirsSpread.connected() && ours.connected(),
      "the subscriptions");
    for (const c of [...tagged, ...spread])
      await emitViaGateway(gateway.url, c, "chat.message", { text: c, from: "cpp" });
    await waitFor(() => theirsTagged.events().length === 2 && ours.events().length === 5,
      "the tagged channels' events on TS, all five on ours");
    assert.deepEqual(theirsTagged.events().map((e) => e.data.text), tagged);
    // TS forrealtime 0.1.13 reads a subscription's channels with one XREAD: across slots
    // Redis refuses it (CROSSSLOT) and the package ends the stream with an error message.
    await waitFor(() => theirsSpread.messages.some((m) => m.type === "error"),
      "the cross-slot TS subscription's error");
    assert.match(theirsSpread.messages.find((m) => m.type === "error").error, /CROSSSLOT/);
    assert.equal(theirsSpread.events().length, 0);
  } finally {
    theirsTagged.close();
    theirsSpread.close();
    ours.close();
  }
});
