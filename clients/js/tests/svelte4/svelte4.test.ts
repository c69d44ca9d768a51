// The Svelte binding under Svelte 4: the same components as tests/svelte, compiled by
// Svelte 4's compiler and run on its runtime (see vitest.config.ts, project "svelte4").
import { tick } from "svelte";
import { writable } from "svelte/store";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RealtimeClient } from "../../src/client.js";
import { fakeFactory } from "../fake-event-source.js";
import Harness from "../svelte/Harness.svelte";
import Orphan from "../svelte/Orphan.svelte";

// Svelte 4 components are classes; the Svelte 5 typings of the .svelte imports say otherwise.
type Svelte4Component = new (options: { target: Element; props?: object }) => { $destroy(): void };
const Harness4 = Harness as unknown as Svelte4Component;
const Orphan4 = Orphan as unknown as Svelte4Component;

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

const statuses = () => [...target.querySelectorAll(".status")].map((s) => s.textContent);

describe("Svelte binding on Svelte 4", () => {
  it("runs on the Svelte 4 runtime", async () => {
    const { VERSION } = await import("svelte/compiler");
    expect(VERSION).toMatch(/^4\./);
  }, 60_000); // the compiler is a large import on a busy machine

  it("provides, subscribes, delivers, reports status, and destroys with the component", async () => {
    const es = fakeFactory();
    const got: string[] = [];
    let client!: RealtimeClient;
    const app = new Harness4({
      target,
      props: {
        clientOptions: { eventSource: es.factory },
        onClient: (c: RealtimeClient) => (client = c),
        consumers: [
          { channels: ["chat"], events: ["chat.message"], onData: (e: any) => got.push(e.data.text) },
          { channels: ["notifications"], onData: (e: any) => got.push(e.event) },
        ],
      },
    });
    vi.advanceTimersByTime(20);
    expect(es.last.channels).toEqual(["chat", "notifications"]);
    es.last.connect();
    await tick();
    expect(statuses()).toEqual(["connected", "connected"]);
    es.last.event("1-0", "chat", "chat.message", { text: "hi" });
    es.last.event("1-0", "notifications", "notification.alert", { text: "!" });
    expect(got).toEqual(["hi", "notification.alert"]);
    app.$destroy();
    expect(es.last.closed).toBe(true);
    expect(client.getStatus()).toBe("disconnected");
  });

  it("a store of options re-subscribes on each value", () => {
    const es = fakeFactory();
    const options = writable<any>({ channels: ["a"] });
    const app = new Harness4({
      target,
      props: { clientOptions: { eventSource: es.factory }, consumers: [options] },
    });
    vi.advanceTimersByTime(20);
    expect(es.last.channels).toEqual(["a"]);
    options.set({ channels: ["b"] });
    vi.advanceTimersByTime(20);
    expect(es.open.map((e) => e.channels)).toEqual([["b"]]);
    app.$destroy();
  });

  it("getRealtimeContext throws without a provider", () => {
    expect(() => new Orphan4({ target })).toThrow(/provideRealtime/);
  });
});
