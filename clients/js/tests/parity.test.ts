// The points where code written for the original `forrealtime/client` must behave the same,
// and the additions that ride along (typed errors, getToken, refusal, jitter, history/emit).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRealtimeClient, RealtimeRequestError, siblingEndpoint } from "../src/client.js";
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
    eventSourceFactory: es.factory, // the original's option name
    random: () => 0,
    probe: false,
    shareTabs: false,
    ...extra,
  });
  return { es, client };
}

/** A fetch that answers from a table and records what it was asked. */
function fakeFetch(answer: (url: string, init?: RequestInit) => { status: number; body?: unknown }) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fn = async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const a = answer(url, init);
    const text = typeof a.body === "string" ? a.body : JSON.stringify(a.body ?? {});
    return new Response(text, { status: a.status });
  };
  return { fn, calls };
}

describe("original shapes", () => {
  it("takes { api: { url, withCredentials } } and the short { url }", () => {
    const a = setup({ api: { url: "/rt", withCredentials: true } });
    a.client.subscribe({ onData: () => {} });
    vi.advanceTimersByTime(25);
    expect(a.es.last.url).toBe("/rt?channel=default");
    expect(a.es.last.withCredentials).toBe(true);
    const b = setup({ url: "/other" });
    b.client.subscribe({ onData: () => {} });
    vi.advanceTimersByTime(25);
    expect(b.es.last.url).toBe("/other?channel=default");
  });

  it("drops undefined/empty channel entries; none left means no subscription", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a", undefined, "", null, "b"], onData: () => {} });
    vi.advanceTimersByTime(25);
    expect(es.last.channels).toEqual(["a", "b"]);
    client.destroy();
    const s2 = setup();
    s2.client.subscribe({ channels: [undefined], onData: () => {} });
    s2.client.subscribe({ channels: [], onData: () => {} });
    vi.advanceTimersByTime(25);
    expect(s2.es.made).toHaveLength(0); // not "default": the original subscribed nothing
  });

  it("an empty events list means every event, as in the original", () => {
    const { es, client } = setup();
    const got: string[] = [];
    client.subscribe({ channels: ["a"], events: [] as string[], onData: (e) => got.push(e.event) });
    vi.advanceTimersByTime(25);
    es.last.connect();
    es.last.event("1-0", "a", "x.one");
    es.last.event("2-0", "a", "y.two");
    expect(got).toEqual(["x.one", "y.two"]);
  });

  it("enabled: false subscribes nothing; onData may be left out", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a"], enabled: false, onData: () => {} });
    vi.advanceTimersByTime(25);
    expect(es.made).toHaveLength(0);
    client.subscribe({ channels: ["a"] });
    vi.advanceTimersByTime(25);
    es.last.connect();
    es.last.event("1-0", "a", "x.y"); // no onData: nothing to call, nothing thrown
  });

  it("statuses appear when the original showed them: disconnected between retries, error after 3", () => {
    const { es, client } = setup();
    const seen: ConnectionStatus[] = [];
    client.subscribeStatus((s) => seen.push(s));
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(25);
    es.last.fail();
    vi.advanceTimersByTime(1000);
    es.last.fail();
    vi.advanceTimersByTime(2000);
    es.last.fail();
    expect(seen).toEqual(["connecting", "disconnected", "connecting", "disconnected", "connecting", "error"]);
    // Unlike the original, it keeps trying, and a success shows connected again.
    vi.advanceTimersByTime(4000);
    es.last.connect();
    expect(client.getStatus()).toBe("connected");
    expect(client.getError()).toBeNull();
  });

  it("the server's error event is status error with a typed server error", () => {
    const { es, client } = setup();
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(25);
    es.last.connect();
    es.last.send({ type: "error", error: "store down" });
    expect(client.getStatus()).toBe("error");
    expect(client.getError()).toEqual({ kind: "server", message: "store down" });
  });

  it("maxReconnectAttempts moves the threshold", () => {
    const { es, client } = setup({ maxReconnectAttempts: 1 });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(25);
    es.last.fail();
    expect(client.getStatus()).toBe("error");
  });
});

describe("reconnect jitter", () => {
  it("follows the server's reconnect after a random delay up to reconnectJitterMs", () => {
    const { es, client } = setup({ random: () => 0.5, reconnectJitterMs: 2000 });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(25);
    es.last.connect();
    es.last.event("5-0", "a", "x.y");
    es.last.send({ type: "reconnect", timestamp: 1 });
    expect(es.made).toHaveLength(1);
    expect(es.made[0]!.closed).toBe(true);
    expect(client.getStatus()).toBe("connecting");
    vi.advanceTimersByTime(999);
    expect(es.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(es.made).toHaveLength(2);
    expect(es.last.query.get("last_ack_a")).toBe("5-0");
  });

  it("spreads many clients over the window", () => {
    const delays = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const r = (i + 0.5) / 20;
      const { es, client } = setup({ random: () => r, reconnectJitterMs: 1000 });
      client.subscribe({ channels: ["a"], onData: () => {} });
      vi.advanceTimersByTime(25);
      es.last.connect();
      es.last.send({ type: "reconnect", timestamp: 1 });
      let waited = 0;
      while (es.made.length < 2 && waited < 1000) {
        vi.advanceTimersByTime(1);
        waited++;
      }
      delays.add(waited);
      client.destroy();
    }
    expect(delays.size).toBe(20);
    expect(Math.max(...delays)).toBeGreaterThan(900);
  });
});

describe("getToken and refusals", () => {
  it("puts the token in the query, asks again on grant_expired and resumes from the acks", async () => {
    let n = 0;
    const { es, client } = setup({ getToken: async () => `t${++n}` });
    client.subscribe({ channels: ["a"], onData: () => {} });
    await vi.advanceTimersByTimeAsync(25);
    expect(es.last.query.get("token")).toBe("t1");
    es.last.connect();
    es.last.event("7-0", "a", "x.y");
    es.last.send({ type: "grant_expired" });
    await vi.advanceTimersByTimeAsync(0);
    expect(es.made).toHaveLength(2);
    expect(es.last.query.get("token")).toBe("t2");
    expect(es.last.query.get("last_ack_a")).toBe("7-0");
  });

  it("a 401 found by the probe is an unauthorized error; the refused token is not retried", async () => {
    const tokens = ["bad", "bad", "bad", "good"];
    const f = fakeFetch((url) => ({
      status: url.includes("token=good") ? 200 : 401,
      body: { error: "invalid token" },
    }));
    const { es, client } = setup({ probe: true, fetch: f.fn, getToken: () => tokens.shift() ?? "good" });
    const onError = vi.fn();
    client.subscribe({ channels: ["a"], onData: () => {} });
    await vi.advanceTimersByTimeAsync(25);
    es.last.fail(); // before open
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls[0]!.url).toContain("token=bad");
    expect(client.getStatus()).toBe("error");
    expect(client.getError()).toEqual({ kind: "unauthorized", status: 401, message: "invalid token" });
    client.subscribeStatus(onError);
    // getToken gives the same refused token twice: no EventSource is made with it.
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(es.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(es.made).toHaveLength(2);
    expect(es.last.query.get("token")).toBe("good");
    es.last.connect();
    expect(client.getStatus()).toBe("connected");
  });

  it("a 403 without getToken stops until reconnect()", async () => {
    const f = fakeFetch(() => ({ status: 403, body: "" }));
    const { es, client } = setup({ probe: true, fetch: f.fn });
    client.subscribe({ channels: ["a"], onData: () => {} });
    await vi.advanceTimersByTimeAsync(25);
    es.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getError()).toMatchObject({ kind: "forbidden", status: 403 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(es.made).toHaveLength(1);
    client.reconnect();
    expect(es.made).toHaveLength(2);
  });

  it("a probe that finds no refusal is an ordinary failure with the status", async () => {
    const f = fakeFetch(() => ({ status: 503, body: { error: "stopping" } }));
    const { es, client } = setup({ probe: true, fetch: f.fn });
    client.subscribe({ channels: ["a"], onData: () => {} });
    await vi.advanceTimersByTimeAsync(25);
    es.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getError()).toMatchObject({ kind: "connection", status: 503 });
    expect(client.getStatus()).toBe("disconnected");
    await vi.advanceTimersByTimeAsync(1000);
    expect(es.made).toHaveLength(2);
  });

  it("a failure after opening does not probe", async () => {
    const f = fakeFetch(() => ({ status: 401 }));
    const { es, client } = setup({ probe: true, fetch: f.fn });
    client.subscribe({ channels: ["a"], onData: () => {} });
    await vi.advanceTimersByTimeAsync(25);
    es.last.connect();
    es.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls).toHaveLength(0);
    expect(client.getError()).toMatchObject({ kind: "connection" });
  });

  it("getToken throwing is a token error, retried", async () => {
    let n = 0;
    const { es, client } = setup({
      getToken: async () => {
        if (n++ === 0) throw new Error("offline");
        return "t";
      },
    });
    client.subscribe({ channels: ["a"], onData: () => {} });
    await vi.advanceTimersByTimeAsync(25);
    expect(client.getError()).toMatchObject({ kind: "token" });
    expect(es.made).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(es.made).toHaveLength(1);
  });
});

describe("history() and emit()", () => {
  it("derive the endpoints from the subscribe URL", () => {
    expect(siblingEndpoint("/api/realtime", "history")).toBe("/api/history");
    expect(siblingEndpoint("https://rt.example/api/realtime?x=1", "emit")).toBe("https://rt.example/api/emit");
  });

  it("emit posts JSON with the bearer token and returns the id; history builds the query", async () => {
    vi.useRealTimers();
    const f = fakeFetch((url) =>
      url.startsWith("/api/emit")
        ? { status: 200, body: { id: "9-0" } }
        : { status: 200, body: [{ id: "1-0", channel: "room", event: "chat.message", data: { text: "hi" } }] },
    );
    type Events = { chat: { message: { text: string } } };
    const client = createRealtimeClient<Events>({ fetch: f.fn, getToken: () => "tok", shareTabs: false });
    expect(await client.channel("room").emit("chat.message", { text: "hi" })).toBe("9-0");
    const post = f.calls[0]!;
    expect(post.url).toBe("/api/emit");
    expect(post.init?.method).toBe("POST");
    expect(JSON.parse(String(post.init?.body))).toEqual({ channel: "room", event: "chat.message", data: { text: "hi" } });
    expect(new Headers(post.init?.headers).get("authorization")).toBe("Bearer tok");
    const past = await client.history({ channel: "room", last: 20 });
    expect(f.calls[1]!.url).toBe("/api/history?channel=room&last=20");
    expect(past[0]!.event).toBe("chat.message");
    await client.channel("room").history({ limit: 5, after: "1-0" });
    expect(f.calls[2]!.url).toBe("/api/history?channel=room&limit=5&after=1-0");
    // @ts-expect-error not an event of the map
    void client.emit("chat.nope", { text: "x" }).catch(() => {});
    // @ts-expect-error wrong payload
    void client.emit("chat.message", { text: 1 }).catch(() => {});
  });

  it("a refusal is a RealtimeRequestError with the status and the server's reason", async () => {
    vi.useRealTimers();
    const f = fakeFetch(() => ({ status: 400, body: { error: "event needs a namespace" } }));
    const client = createRealtimeClient({ fetch: f.fn, shareTabs: false });
    const err = await client.emit("nope", 1).catch((e) => e);
    expect(err).toBeInstanceOf(RealtimeRequestError);
    expect(err.status).toBe(400);
    expect(err.serverError).toBe("event needs a namespace");
  });
});

describe("closeWhenHiddenMs", () => {
  function setVisibility(state: "hidden" | "visible") {
    Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }
  afterEach(() => {
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
  });

  it("closes the stream after the page is hidden that long and resumes from the acks when visible", () => {
    const { es, client } = setup({ closeWhenHiddenMs: 5000 });
    client.subscribe({ channels: ["a"], onData: () => {} });
    vi.advanceTimersByTime(25);
    es.last.connect();
    es.last.event("4-0", "a", "x.y");
    setVisibility("hidden");
    vi.advanceTimersByTime(4000);
    setVisibility("visible"); // back in time: nothing happens
    setVisibility("hidden");
    vi.advanceTimersByTime(4999);
    expect(es.last.closed).toBe(false);
    vi.advanceTimersByTime(1 + 25);
    expect(es.last.closed).toBe(true);
    expect(client.getStatus()).toBe("disconnected");
    setVisibility("visible");
    vi.advanceTimersByTime(25);
    expect(es.made).toHaveLength(2);
    expect(es.last.closed).toBe(false);
    expect(es.last.query.get("last_ack_a")).toBe("4-0");
    client.destroy();
  });
});
