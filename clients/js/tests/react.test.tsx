import { act, cleanup, render, screen } from "@testing-library/react";
import { StrictMode, useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRealtimeClient } from "../src/client.js";
import { RealtimeProvider, createRealtime, useRealtimeClient, useRealtimeContext } from "../src/react.js";
import { fakeFactory } from "./fake-event-source.js";

type Events = {
  chat: { message: { text: string; user: string } };
  notification: { alert: { text: string } };
};
const { useRealtime } = createRealtime<Events>();

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function Chat({ channels = ["chat"] }: { channels?: string[] }) {
  const [lines, setLines] = useState<string[]>([]);
  const { status } = useRealtime({
    channels,
    events: ["chat.message"],
    onData: (e) => {
      if (e.event === "chat.message") setLines((l) => [...l, `${e.data.user}: ${e.data.text}`]);
    },
  });
  return (
    <div>
      <span data-testid="status">{status}</span>
      <ul>
        {lines.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
    </div>
  );
}

function advance(ms: number) {
  act(() => {
    vi.advanceTimersByTime(ms);
  });
}

describe("React binding", () => {
  it("subscribes through the provider, delivers typed events and reports status", () => {
    const es = fakeFactory();
    render(
      <RealtimeProvider api={{ url: "/api/realtime", withCredentials: true }} options={{ eventSource: es.factory }}>
        <Chat />
      </RealtimeProvider>,
    );
    expect(screen.getByTestId("status").textContent).toBe("disconnected");
    advance(20);
    expect(es.made).toHaveLength(1);
    expect(es.last.channels).toEqual(["chat"]);
    expect(es.last.withCredentials).toBe(true);
    expect(screen.getByTestId("status").textContent).toBe("connecting");
    act(() => es.last.connect());
    expect(screen.getByTestId("status").textContent).toBe("connected");
    act(() => {
      es.last.event("1-0", "chat", "chat.message", { text: "hello", user: "ann" });
      es.last.event("2-0", "chat", "chat.typing", {});
    });
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["ann: hello"]);
    act(() => es.last.fail());
    expect(screen.getByTestId("status").textContent).toBe("disconnected");
  });

  it("returns { status, error } with a typed error; the original's provider props work", () => {
    const es = fakeFactory();
    let seen: ReturnType<typeof useRealtime> | null = null;
    function Probe() {
      const user: { id?: string } = {};
      seen = useRealtime({ channels: ["chat", user.id], events: [] });
      return null;
    }
    render(
      <RealtimeProvider api={{ url: "/api/realtime" }} maxReconnectAttempts={1} eventSourceFactory={es.factory} probe={false} shareTabs={false}>
        <Probe />
      </RealtimeProvider>,
    );
    advance(25);
    expect(es.last.channels).toEqual(["chat"]); // the undefined entry is dropped
    act(() => es.last.fail());
    expect(seen!.status).toBe("error");
    const error = seen!.error;
    expect(error?.kind).toBe("connection");
    act(() => {
      advance(1000);
      es.last.connect();
    });
    expect(seen!.status).toBe("connected");
    expect(seen!.error).toBeNull();
  });

  it("marks the entry 'use client' for the Next.js App Router", async () => {
    const { readFile } = await import("node:fs/promises");
    const src = await readFile(`${process.cwd()}/src/react.ts`, "utf8");
    expect(src.startsWith('"use client";')).toBe(true);
  });

  it("shares one EventSource between components and re-opens when channels change", () => {
    const es = fakeFactory();
    function Switcher() {
      const [room, setRoom] = useState("a");
      return (
        <>
          <button onClick={() => setRoom("b")}>switch</button>
          <Chat channels={[room]} />
          <Chat channels={["lobby"]} />
        </>
      );
    }
    render(
      <RealtimeProvider options={{ eventSource: es.factory }}>
        <Switcher />
      </RealtimeProvider>,
    );
    advance(20);
    expect(es.made).toHaveLength(1);
    expect(es.last.channels).toEqual(["a", "lobby"]);
    act(() => screen.getByText("switch").click());
    advance(20);
    expect(es.made).toHaveLength(2);
    expect(es.open.map((e) => e.channels)).toEqual([["lobby", "b"]]);
  });

  it("does not re-subscribe when only the onData closure changes, and honours enabled", () => {
    const client = createRealtimeClient({ eventSource: fakeFactory().factory });
    const subscribe = vi.spyOn(client, "subscribe");
    function C({ enabled, n }: { enabled: boolean; n: number }) {
      useRealtime({ channels: ["x"], enabled, onData: () => void n });
      return null;
    }
    const view = render(
      <RealtimeProvider client={client}>
        <C enabled={false} n={1} />
      </RealtimeProvider>,
    );
    expect(subscribe).not.toHaveBeenCalled();
    view.rerender(
      <RealtimeProvider client={client}>
        <C enabled n={2} />
      </RealtimeProvider>,
    );
    view.rerender(
      <RealtimeProvider client={client}>
        <C enabled n={3} />
      </RealtimeProvider>,
    );
    expect(subscribe).toHaveBeenCalledTimes(1);
  });

  it("works under StrictMode with a single connection", () => {
    const es = fakeFactory();
    render(
      <StrictMode>
        <RealtimeProvider options={{ eventSource: es.factory }}>
          <Chat />
        </RealtimeProvider>
      </StrictMode>,
    );
    advance(20);
    expect(es.made).toHaveLength(1);
    act(() => {
      es.last.connect();
      es.last.event("1-0", "chat", "chat.message", { text: "once", user: "bo" });
    });
    expect(screen.getAllByRole("listitem")).toHaveLength(1);
  });

  it("closes the connection when the provider unmounts", () => {
    const es = fakeFactory();
    const view = render(
      <RealtimeProvider options={{ eventSource: es.factory }}>
        <Chat />
      </RealtimeProvider>,
    );
    advance(20);
    view.unmount();
    advance(20);
    expect(es.last.closed).toBe(true);
  });

  it("passes history_lost to onHistoryLost", () => {
    const es = fakeFactory();
    const lost = vi.fn();
    function C() {
      useRealtime({ channels: ["chat"], onHistoryLost: lost });
      return null;
    }
    render(
      <RealtimeProvider options={{ eventSource: es.factory }}>
        <C />
      </RealtimeProvider>,
    );
    advance(20);
    act(() => es.last.send({ type: "history_lost", channel: "chat", last_ack: "1-0", oldest: "9-0" }));
    expect(lost).toHaveBeenCalledWith({ channel: "chat", lastAck: "1-0", oldest: "9-0" });
  });

  it("a new endpoint gets a new client, and the old connection closes", () => {
    const es = fakeFactory();
    const tree = (url: string) => (
      <RealtimeProvider api={{ url }} options={{ eventSource: es.factory }}>
        <Chat />
      </RealtimeProvider>
    );
    const view = render(tree("/one"));
    advance(20);
    view.rerender(tree("/two"));
    advance(20);
    expect(es.made.map((e) => e.url)).toEqual(["/one?channel=chat", "/two?channel=chat"]);
    expect(es.open.map((e) => e.url)).toEqual(["/two?channel=chat"]);
  });

  it("useRealtimeContext is the original's name for useRealtimeClient", () => {
    expect(useRealtimeContext).toBe(useRealtimeClient);
  });

  it("useRealtimeClient throws a clear error without a provider", () => {
    function Orphan() {
      useRealtimeClient();
      return null;
    }
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => render(<Orphan />)).toThrow(/RealtimeProvider/);
  });
});
