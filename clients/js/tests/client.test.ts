import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildSubscribeUrl, createRealtimeClient } from "../src/client.js";
import type { ConnectionStatus } from "../src/types.js";
import { fakeFactory } from "./fake-event-source.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(extra: Parameters<typeof createRealtimeClient>[0] = {}) {
  const es = fakeFactory();
  const client = createRealtimeClient({
    url: "/api/realtime",
    eventSource: es.factory,
    random: () => 0, // no jitter: delays are exact
    probe: false,
    shareTabs: false,
    ...extra,
  });
  return { es, client };
}

describe("channel union and debounce", () => {
  it("opens one EventSource for the union of all subscribers, after the debounce", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a", "b"], onData: () => {} });
    client.subscribe({ channels: ["b", "c"], onData: () => {} });
    client.subscribe({ channels: ["a"], onData: () => {} });
    expect(es.made).toHaveLength(0);
    vi.advanceTimersByTime(20);
    expect(es.made).toHaveLength(1);
    expect(es.last.channels).toEqual(["a", "b", "c"]);
    expect(es.last.url).toBe("/api/realtime?channel=a&channel=b&channel=c");
  });

  it("defaults to the channel 'default'", () => {
    const { es, client } = setup();
    client.subscribe({ onData: () => {} });
    vi.advanceTimersByTime(20);
    expect(es.last.channels).toEqual(["default"]);
  });

  it("re-opens once when the set changes and not when it stays the same", () => {
    const { es, client } = setup();
    const offA = client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    // Unsubscribe and resubscribe within the debounce (React StrictMode does this): no re-open.
    offA();
    const offA2 = client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(50);
    expect(es.made).toHaveLength(1);
    // A burst of changes costs one re-open.
    const offB = client.subscribe({ channels: ["b"], onData: () => {} });
    client.subscribe({ channels: ["c"], onData: () => {} });
    offB();
    vi.advanceTimersByTime(20);
    expect(es.made).toHaveLength(2);
    expect(es.made[0]!.closed).toBe(true);
    expect(es.last.channels).toEqual(["a", "c"]);
    expect(es.open).toHaveLength(1);
    offA2();
    vi.advanceTimersByTime(20);
    expect(es.last.channels).toEqual(["c"]);
  });

  it("closes when the last subscriber leaves", () => {
    const { es, client } = setup();
    const off = client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    expect(client.getStatus()).toBe("connected");
    off();
    vi.advanceTimersByTime(20);
    expect(es.last.closed).toBe(true);
    expect(client.getStatus()).toBe("disconnected");
  });

  it("keeps the endpoint's own query and passes withCredentials", () => {
    const { es, client } = setup({ url: "/rt?token=x", withCredentials: true });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    expect(es.last.url).toBe("/rt?token=x&channel=a");
    expect(es.last.withCredentials).toBe(true);
  });
});

describe("delivery", () => {
  it("routes events by channel and event name", () => {
    const { es, client } = setup();
    const a: string[] = [];
    const b: string[] = [];
    client.subscribe({ channels: ["room"], events: ["chat.message"], onData: (e) => a.push(e.id) });
    client.subscribe({ channels: ["room", "other"], onData: (e) => b.push(`${e.channel}/${e.event}`) });
    vi.advanceTimersByTime(20);
    es.last.connect();
    es.last.event("1-0", "room", "chat.message", { text: "hi" });
    es.last.event("2-0", "room", "chat.typing");
    es.last.event("1-0", "other", "x.y");
    expect(a).toEqual(["1-0"]);
    expect(b).toEqual(["room/chat.message", "room/chat.typing", "other/x.y"]);
  });

  it("passes {id, channel, event, data}", () => {
    const { es, client } = setup();
    const got: unknown[] = [];
    client.subscribe({ channels: ["room"], onData: (e) => got.push(e) });
    vi.advanceTimersByTime(20);
    es.last.event("5-1", "room", "chat.message", { text: "hi", user: "ann" });
    expect(got).toEqual([
      { id: "5-1", channel: "room", event: "chat.message", data: { text: "hi", user: "ann" } },
    ]);
  });

  it("skips frames it cannot read and keeps going; one throwing subscriber does not stop others", () => {
    const { es, client } = setup();
    const got: string[] = [];
    const reportError = vi.fn();
    vi.stubGlobal("reportError", reportError);
    client.subscribe({
      channels: ["room"],
      onData: () => {
        throw new Error("boom");
      },
    });
    client.subscribe({ channels: ["room"], onData: (e) => got.push(e.id) });
    vi.advanceTimersByTime(20);
    es.last.send("{not json");
    es.last.send("null");
    es.last.event("1-0", "room", "a.b");
    expect(got).toEqual(["1-0"]);
    expect(reportError).toHaveBeenCalledOnce();
    vi.unstubAllGlobals();
  });
});

describe("acks and dedup", () => {
  it("sends last_ack_<channel> of every channel that saw something on reconnect", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["room:1", "b", "c"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.open();
    es.last.event("1700000000000-3", "room:1", "chat.message");
    es.last.event("1700000000001-0", "b", "x.y");
    expect(client.lastAck("room:1")).toBe("1700000000000-3");
    es.last.send({ type: "reconnect", timestamp: 1 });
    expect(es.made).toHaveLength(2);
    expect(es.made[0]!.closed).toBe(true);
    expect(es.last.url).toBe(
      "/api/realtime?channel=room%3A1&channel=b&channel=c" +
        "&last_ack_room%3A1=1700000000000-3&last_ack_b=1700000000001-0",
    );
  });

  it("starts the ack at the connected cursor (0-0 for an empty stream)", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a", "b"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect({ a: "10-2" });
    expect(client.lastAck("a")).toBe("10-2");
    expect(client.lastAck("b")).toBe("0-0");
    // A cursor does not move an ack the client already has.
    es.last.event("11-0", "a", "x.y");
    es.last.send({ type: "reconnect", timestamp: 1 });
    es.last.connect({ a: "12-0", b: "3-0" });
    expect(client.lastAck("a")).toBe("11-0");
    expect(client.lastAck("b")).toBe("0-0");
    expect(es.last.query.get("last_ack_a")).toBe("11-0");
  });

  it("never delivers an id twice, comparing ids as numbers", () => {
    const { es, client } = setup();
    const got: string[] = [];
    client.subscribe({ channels: ["a", "b"], onData: (e) => got.push(`${e.channel}:${e.id}`) });
    vi.advanceTimersByTime(20);
    es.last.open();
    es.last.event("9-0", "a", "x.y");
    es.last.event("9-0", "a", "x.y"); // duplicate
    es.last.event("10-0", "a", "x.y"); // "10-0" < "9-0" as strings, but newer
    es.last.event("9-5", "a", "x.y"); // older: replayed twice
    es.last.event("9-0", "b", "x.y"); // same id on another channel is another event
    // A replay after reconnect overlapping what was seen.
    es.last.send({ type: "reconnect", timestamp: 1 });
    es.last.event("9-0", "a", "x.y");
    es.last.event("10-0", "a", "x.y");
    es.last.event("10-1", "a", "x.y");
    expect(got).toEqual(["a:9-0", "a:10-0", "b:9-0", "a:10-1"]);
  });

  it("ack() seeds the mark so that only later events are replayed and delivered", () => {
    const { es, client } = setup();
    const got: string[] = [];
    client.ack("chat", "100-0");
    client.ack("chat", "50-0"); // never moves back
    expect(() => client.ack("chat", "nope")).toThrow(/stream id/);
    client.subscribe({ channels: ["chat"], onData: (e) => got.push(e.id) });
    vi.advanceTimersByTime(20);
    expect(es.last.query.get("last_ack_chat")).toBe("100-0");
    es.last.event("100-0", "chat", "x.y");
    es.last.event("101-0", "chat", "x.y");
    expect(got).toEqual(["101-0"]);
  });
});

describe("system events", () => {
  it("surfaces history_lost to subscribers of that channel", () => {
    const { es, client } = setup();
    const lost = vi.fn();
    const other = vi.fn();
    client.subscribe({ channels: ["a"], onData: () => {}, onHistoryLost: lost });
    client.subscribe({ channels: ["b"], onData: () => {}, onHistoryLost: other });
    vi.advanceTimersByTime(20);
    es.last.send({ type: "history_lost", channel: "a", last_ack: "1-0", oldest: "5-0" });
    expect(lost).toHaveBeenCalledWith({ channel: "a", lastAck: "1-0", oldest: "5-0" });
    expect(other).not.toHaveBeenCalled();
  });

  it("reconnects after 75 s without any message, not before; pings keep it alive", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    vi.advanceTimersByTime(70_000);
    es.last.send({ type: "ping", timestamp: 1 });
    vi.advanceTimersByTime(70_000);
    expect(es.made).toHaveLength(1);
    vi.advanceTimersByTime(5_001);
    expect(es.made).toHaveLength(2);
    expect(es.made[0]!.closed).toBe(true);
  });

  it("ping timeout is configurable", () => {
    const { es, client } = setup({ pingTimeoutMs: 1000 });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    vi.advanceTimersByTime(1000);
    expect(es.made).toHaveLength(2);
  });

  it("treats the server's error event as a failure and retries", () => {
    const onError = vi.fn();
    const { es, client } = setup({ onError });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    es.last.send({ type: "error", error: "store down" });
    expect(onError).toHaveBeenCalledWith({ kind: "server", message: "store down" });
    expect(client.getStatus()).toBe("error");
    expect(es.last.closed).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(es.made).toHaveLength(2);
  });
});

describe("backoff and status", () => {
  it("retries forever with exponential, capped delays, reset by a successful connect", () => {
    const { es, client } = setup({ backoff: { initialMs: 100, maxMs: 1000 } });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = es.made.length;
      es.last.fail();
      let waited = 0;
      while (es.made.length === before) {
        vi.advanceTimersByTime(10);
        waited += 10;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000]);
    es.last.connect();
    es.last.fail();
    vi.advanceTimersByTime(99);
    const n = es.made.length;
    vi.advanceTimersByTime(1);
    expect(es.made.length).toBe(n + 1);
  });

  it("applies jitter", () => {
    const { es, client } = setup({ random: () => 1, backoff: { initialMs: 1000, jitter: 0.5 } });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.fail();
    vi.advanceTimersByTime(499);
    expect(es.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(es.made).toHaveLength(2);
  });

  it("goes disconnected -> connecting -> connected -> disconnected -> connecting -> connected -> disconnected", () => {
    const { es, client } = setup();
    const seen: ConnectionStatus[] = [client.getStatus()];
    client.subscribeStatus((s) => seen.push(s));
    const off = client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    es.last.fail();
    vi.advanceTimersByTime(1000);
    es.last.send({ type: "connected", channel: "a" }); // a message alone also means connected
    off();
    vi.advanceTimersByTime(20);
    expect(seen).toEqual([
      "disconnected",
      "connecting",
      "connected",
      "disconnected", // a failure with a retry pending, as the original shows it
      "connecting",
      "connected",
      "disconnected",
    ]);
  });

  it("retries at once when the browser comes back online, and only while waiting", () => {
    const { es, client } = setup({ backoff: { initialMs: 10_000 } });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    window.dispatchEvent(new Event("online")); // connected: nothing to do
    expect(es.made).toHaveLength(1);
    es.last.fail();
    window.dispatchEvent(new Event("online"));
    expect(es.made).toHaveLength(2);
    vi.advanceTimersByTime(10_000); // the scheduled retry was cancelled
    expect(es.made).toHaveLength(2);
    client.destroy();
  });

  it("retryWhenOnline: false waits out the backoff", () => {
    const { es, client } = setup({ retryWhenOnline: false });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.fail();
    window.dispatchEvent(new Event("online"));
    expect(es.made).toHaveLength(1);
    client.destroy();
  });

  it("a reconnect event reconnects at once, without backoff", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.connect();
    es.last.send({ type: "reconnect", timestamp: 1 });
    expect(es.made).toHaveLength(2);
    expect(client.getStatus()).toBe("connecting");
  });

  it("an EventSource that cannot be made is a failure, retried with backoff", () => {
    const onError = vi.fn();
    let calls = 0;
    const client = createRealtimeClient({
      eventSource: () => {
        calls += 1;
        throw new Error("no EventSource here");
      },
      random: () => 0,
      onError,
    });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    expect(client.getStatus()).toBe("disconnected");
    expect(client.getError()).toMatchObject({ kind: "connection" });
    expect(onError.mock.calls[0]![0].message).toMatch(/no EventSource here/);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(2);
    // The third failure in a row shows `error`, as the original did; retries go on.
    vi.advanceTimersByTime(2000);
    expect(calls).toBe(3);
    expect(client.getStatus()).toBe("error");
    vi.advanceTimersByTime(4000);
    expect(calls).toBe(4);
    expect(client.getStatus()).toBe("error"); // not `connecting` behind the error
    client.destroy();
  });

  it("ignores callbacks of a closed EventSource", () => {
    const { es, client } = setup();
    const got = vi.fn();
    client.subscribe({ channels: ["a"], onData: got });
    vi.advanceTimersByTime(20);
    const first = es.last;
    const onmessage = first.onmessage!;
    const onerror = first.onerror!;
    first.send({ type: "reconnect", timestamp: 1 });
    onmessage({ data: JSON.stringify({ id: "1-0", channel: "a", event: "x.y", data: 1 }) });
    onerror({});
    expect(got).not.toHaveBeenCalled();
    expect(es.made).toHaveLength(2);
    expect(client.getStatus()).toBe("connecting");
  });

  it("destroy closes everything and stops retrying", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(20);
    es.last.fail();
    client.destroy();
    vi.advanceTimersByTime(60_000);
    expect(es.made).toHaveLength(1);
    expect(client.getStatus()).toBe("disconnected");
    client.subscribe({ channels: ["b"], onData: () => {} });
    vi.advanceTimersByTime(100);
    expect(es.made).toHaveLength(1);
  });
});

describe("buildSubscribeUrl", () => {
  it("encodes as URLSearchParams does, '+' for spaces", () => {
    const url = buildSubscribeUrl("/e", ["a b", "ü/x"], new Map([["a b", "1-2"]]));
    expect(url).toBe("/e?channel=a+b&channel=%C3%BC%2Fx&last_ack_a+b=1-2");
  });
});
