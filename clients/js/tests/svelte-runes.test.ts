// The Svelte 5 runes form: reactive `status`/`error` properties and getter options.
import { flushSync, mount, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RealtimeClient } from "../src/client.js";
import { fakeFactory } from "./fake-event-source.js";
import RunesApp from "./svelte/RunesApp.svelte";

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

const text = (sel: string) => target.querySelector(sel)?.textContent;

describe("Svelte 5 runes binding", () => {
  it("takes { api: { url } }, re-subscribes when a getter's state changes, and reports status and error", () => {
    const es = fakeFactory();
    const got: string[] = [];
    let client!: RealtimeClient;
    const app = mount(RunesApp, {
      target,
      props: {
        clientOptions: { api: { url: "/rt" }, eventSource: es.factory, probe: false, shareTabs: false, maxReconnectAttempts: 1 },
        onClient: (c: RealtimeClient) => (client = c),
        got,
      },
    }) as { setRoom(r: string): void };
    flushSync();
    vi.advanceTimersByTime(25);
    flushSync();
    expect(es.last.url).toBe("/rt?channel=room%3A1");
    expect(text(".status")).toBe("connecting");
    es.last.connect();
    es.last.event("1-0", "room:1", "chat.message");
    flushSync();
    expect(text(".status")).toBe("connected");
    app.setRoom("room:2");
    flushSync();
    vi.advanceTimersByTime(25);
    flushSync();
    expect(es.last.channels).toEqual(["room:2"]);
    es.last.fail();
    flushSync();
    expect(text(".status")).toBe("error");
    expect(text(".error")).toBe("connection");
    expect(got).toEqual(["room:1:1-0"]);
    unmount(app);
    expect(client.getStatus()).toBe("disconnected");
  });
});
