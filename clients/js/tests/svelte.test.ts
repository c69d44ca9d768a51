import { flushSync, mount, unmount } from "svelte";
import { writable } from "svelte/store";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RealtimeClient } from "../src/client.js";
import { createRealtime } from "../src/svelte.js";
import { fakeFactory } from "./fake-event-source.js";
import Consumer from "./svelte/Consumer.svelte";
import Harness from "./svelte/Harness.svelte";
import Orphan from "./svelte/Orphan.svelte";

type Events = { "chat.message": { text: string; user: string }; "notification.alert": { text: string } };

let target: HTMLElement;
beforeEach(() => {
  vi.useFakeTimers();
  target = document.createElement("div");
  document.body.append(target);
});
afterEach(() => {
  target.remove();
  vi.useRealTimers();
});

function statuses() {
  return [...target.querySelectorAll(".status")].map((s) => s.textContent);
}

function advance(ms: number) {
  vi.advanceTimersByTime(ms);
  flushSync();
}

describe("Svelte binding", () => {
  it("provides a client, subscribes per component, delivers events and a status store", () => {
    const es = fakeFactory();
    const got: string[] = [];
    let client!: RealtimeClient;
    const app = mount(Harness, {
      target,
      props: {
        clientOptions: { url: "/rt", eventSource: es.factory },
        onClient: (c: RealtimeClient) => (client = c),
        consumers: [
          { channels: ["chat"], events: ["chat.message"], onData: (e: any) => got.push(e.data.text) },
          { channels: ["notifications"], onData: (e: any) => got.push(e.event) },
        ],
      },
    });
    flushSync();
    expect(statuses()).toEqual(["disconnected", "disconnected"]);
    advance(20);
    expect(es.made).toHaveLength(1);
    expect(es.last.url).toBe("/rt?channel=chat&channel=notifications");
    expect(statuses()).toEqual(["connecting", "connecting"]);
    es.last.connect();
    flushSync();
    expect(statuses()).toEqual(["connected", "connected"]);
    es.last.event("1-0", "chat", "chat.message", { text: "hi", user: "u" });
    es.last.event("2-0", "chat", "chat.other");
    es.last.event("1-0", "notifications", "notification.alert", { text: "!" });
    expect(got).toEqual(["hi", "notification.alert"]);
    expect(client.channels()).toEqual(["chat", "notifications"]);
    // Destroying the providing component destroys its client.
    unmount(app);
    expect(es.last.closed).toBe(true);
    expect(client.getStatus()).toBe("disconnected");
  });

  it("a store of options: each new value unsubscribes and subscribes again", () => {
    const es = fakeFactory();
    const got: string[] = [];
    const options = writable<any>({ channels: ["a"], onData: (e: any) => got.push(`1:${e.id}`) });
    const app = mount(Harness, {
      target,
      props: { clientOptions: { eventSource: es.factory }, consumers: [options] },
    });
    advance(20);
    expect(es.last.channels).toEqual(["a"]);
    es.last.event("1-0", "a", "x.y");
    options.set({ channels: ["b"], onData: (e: any) => got.push(`2:${e.id}`) });
    advance(20);
    expect(es.made).toHaveLength(2);
    expect(es.last.channels).toEqual(["b"]);
    es.last.event("1-0", "b", "x.y");
    options.set({ channels: ["b"], enabled: false, onData: () => {} });
    advance(20);
    expect(es.last.closed).toBe(true);
    expect(got).toEqual(["1:1-0", "2:1-0"]);
    unmount(app);
  });

  it("a consumer unsubscribes when it is destroyed", () => {
    const es = fakeFactory();
    let client!: RealtimeClient;
    const app = mount(Harness, {
      target,
      props: {
        clientOptions: { eventSource: es.factory },
        onClient: (c: RealtimeClient) => (client = c),
        consumers: [{ channels: ["a"] }, { channels: ["b"] }],
      },
    });
    advance(20);
    expect(es.last.channels).toEqual(["a", "b"]);
    // A consumer outside the harness, on the same client, goes away with its component.
    const extra = mount(Consumer, {
      target,
      props: { options: { channels: ["c"] } },
      context: new Map([[Symbol.for("forrealtime.client"), client]]),
    });
    advance(20);
    expect(es.last.channels).toEqual(["a", "b", "c"]);
    unmount(extra);
    advance(20);
    expect(es.last.channels).toEqual(["a", "b"]);
    unmount(app);
  });

  it("getRealtimeContext throws a clear error without a provider", () => {
    expect(() => mount(Orphan, { target })).toThrow(/provideRealtime/);
  });

  it("createRealtime<Events>() returns the same functions, typed", () => {
    const typed = createRealtime<Events>();
    expect(Object.keys(typed).sort()).toEqual(["getRealtimeContext", "provideRealtime", "useRealtime"]);
  });
});
