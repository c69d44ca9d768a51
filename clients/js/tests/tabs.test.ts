// Tab sharing with an in-memory Web Locks and BroadcastChannel: one EventSource for the
// union of every client's channels, followers fed by the leader, and a hand-over from the
// acks when the leader goes, with nothing lost or delivered twice.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRealtimeClient } from "../src/client.js";
import { tabSharingAvailable, type TabEnvironment } from "../src/tabs.js";
import { fakeFactory } from "./fake-event-source.js";

function fakeTabs(): TabEnvironment {
  const holders = new Map<string, boolean>();
  const waiting = new Map<string, (() => void)[]>();
  const grant = (name: string) => {
    const next = waiting.get(name)?.shift();
    if (next) next(); // the lock passes straight to the next waiter
    else holders.set(name, false);
  };
  const locks = {
    request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>) {
      return new Promise((resolve, reject) => {
        const run = () => {
          Promise.resolve(callback({ name })).then(resolve, reject).finally(() => grant(name));
        };
        if (!holders.get(name)) {
          holders.set(name, true);
          return void queueMicrotask(run);
        }
        const queue = waiting.get(name) ?? [];
        queue.push(run);
        waiting.set(name, queue);
        options.signal?.addEventListener("abort", () => {
          const i = queue.indexOf(run);
          if (i >= 0) queue.splice(i, 1);
          reject(new Error("aborted"));
        });
      });
    },
  };
  const members = new Set<Bus>();
  class Bus {
    onmessage: ((ev: { data: any }) => unknown) | null = null;
    constructor(readonly name: string) {
      members.add(this);
    }
    postMessage(data: unknown) {
      const copy = JSON.parse(JSON.stringify(data));
      for (const m of members) if (m !== this && m.name === this.name) setTimeout(() => m.onmessage?.({ data: copy }), 0);
    }
    close() {
      members.delete(this);
    }
  }
  return { locks, BroadcastChannel: Bus };
}

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

describe("tabs share one stream", () => {
  it("one EventSource for the union; every client gets each event once; hand-over from the acks", async () => {
    const env = fakeTabs();
    const es = fakeFactory();
    const make = () =>
      createRealtimeClient({ eventSource: es.factory, tabEnvironment: env, probe: false, random: () => 0 });
    const clients = [make(), make(), make()];
    const got: string[][] = [[], [], []];
    clients[0]!.subscribe({ channels: ["a"], onData: (e) => got[0]!.push(e.id) });
    clients[1]!.subscribe({ channels: ["a", "b"], onData: (e) => got[1]!.push(e.id) });
    clients[2]!.subscribe({ channels: ["b"], onData: (e) => got[2]!.push(e.id) });
    await settle();
    expect(clients.map((c) => c.role()).sort()).toEqual(["follower", "follower", "leader"]);
    expect(es.open).toHaveLength(1);
    expect(new Set(es.last.channels)).toEqual(new Set(["a", "b"]));
    es.last.connect();
    es.last.event("1-0", "a", "x.y");
    es.last.event("2-0", "b", "x.y");
    await settle();
    expect(clients.map((c) => c.getStatus())).toEqual(["connected", "connected", "connected"]);
    expect(got).toEqual([["1-0"], ["1-0", "2-0"], ["2-0"]]);

    // The leader goes; the next one connects with the acks it saw passed on.
    const leader = clients.findIndex((c) => c.role() === "leader");
    const old = es.last;
    clients[leader]!.destroy();
    await settle();
    expect(old.closed).toBe(true);
    const rest = clients.filter((_, i) => i !== leader);
    expect(rest.map((c) => c.role()).sort()).toEqual(["follower", "leader"]);
    expect(es.open).toHaveLength(1);
    expect(es.last.query.get("last_ack_a")).toBe("1-0");
    expect(es.last.query.get("last_ack_b")).toBe("2-0");
    es.last.connect();
    es.last.event("2-0", "b", "x.y"); // an overlap of the replay: dropped by id
    es.last.event("3-0", "a", "x.y");
    es.last.event("4-0", "b", "x.y");
    await settle();
    const want = [["1-0", "3-0"], ["1-0", "2-0", "3-0", "4-0"], ["2-0", "4-0"]];
    for (let i = 0; i < 3; i++) if (i !== leader) expect(got[i]).toEqual(want[i]);
    for (const c of rest) c.destroy();
  });

  it("a follower's reconnect() asks the leader; shareTabs: false connects alone", async () => {
    const env = fakeTabs();
    const es = fakeFactory();
    const a = createRealtimeClient({ eventSource: es.factory, tabEnvironment: env, probe: false });
    const b = createRealtimeClient({ eventSource: es.factory, tabEnvironment: env, probe: false });
    a.subscribe({ channels: ["a"] });
    b.subscribe({ channels: ["a"] });
    await settle();
    const follower = a.role() === "follower" ? a : b;
    follower.reconnect();
    await settle();
    expect(es.made).toHaveLength(2);
    expect(es.open).toHaveLength(1);
    const alone = createRealtimeClient({ eventSource: es.factory, tabEnvironment: env, shareTabs: false });
    alone.subscribe({ channels: ["a"] });
    await settle();
    expect(alone.role()).toBe("alone");
    expect(es.open).toHaveLength(2);
    for (const c of [a, b, alone]) c.destroy();
  });

  describe("the fallback where a page lacks Web Locks or BroadcastChannel", () => {
    afterEach(() => vi.unstubAllGlobals());
    for (const missing of ["Web Locks", "BroadcastChannel"] as const) {
      it(`without ${missing} each client connects by itself and gets its events`, async () => {
        // A page (happy-dom's document) that has one of the two APIs and not the other.
        const env = fakeTabs();
        if (missing === "Web Locks") {
          vi.stubGlobal("navigator", { ...globalThis.navigator, locks: undefined });
          vi.stubGlobal("BroadcastChannel", env.BroadcastChannel);
        } else {
          vi.stubGlobal("navigator", { ...globalThis.navigator, locks: env.locks });
          vi.stubGlobal("BroadcastChannel", undefined);
        }
        expect(tabSharingAvailable()).toBe(false);
        const es = fakeFactory();
        const clients = [0, 1].map(() => createRealtimeClient({ eventSource: es.factory, probe: false }));
        const got: string[][] = [[], []];
        clients.forEach((c, i) => c.subscribe({ channels: ["a"], onData: (e) => got[i]!.push(e.id) }));
        await settle();
        expect(clients.map((c) => c.role())).toEqual(["alone", "alone"]);
        expect(es.open).toHaveLength(2);
        for (const source of es.open) {
          source.connect();
          source.event("1-0", "a", "x.y");
        }
        await settle();
        expect(got).toEqual([["1-0"], ["1-0"]]);
        expect(clients.map((c) => c.getStatus())).toEqual(["connected", "connected"]);
        for (const c of clients) c.destroy();
      });
    }
    it("with both, a page shares (the same check the client makes)", () => {
      const env = fakeTabs();
      vi.stubGlobal("navigator", { ...globalThis.navigator, locks: env.locks });
      vi.stubGlobal("BroadcastChannel", env.BroadcastChannel);
      expect(tabSharingAvailable()).toBe(true);
    });
  });
});
