/** A scripted EventSource: tests open, feed and fail it by hand and read what was asked. */

import type { EventSourceFactory, EventSourceLike } from "../src/client.js";

export class FakeEventSource implements EventSourceLike {
  onopen: ((ev: any) => unknown) | null = null;
  onmessage: ((ev: { data?: unknown }) => unknown) | null = null;
  onerror: ((ev: any) => unknown) | null = null;
  closed = false;
  readonly query: URLSearchParams;

  constructor(
    readonly url: string,
    readonly withCredentials: boolean,
  ) {
    this.query = new URLSearchParams(url.slice(url.indexOf("?") + 1));
  }

  get channels(): string[] {
    return this.query.getAll("channel");
  }

  open() {
    this.onopen?.({});
  }

  send(msg: unknown) {
    this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) });
  }

  /** The server's `connected` for each channel, optionally with cursors. */
  connect(cursors: Record<string, string> = {}) {
    this.open();
    for (const channel of this.channels) {
      this.send({ type: "connected", channel, ...(cursors[channel] ? { cursor: cursors[channel] } : {}) });
    }
  }

  event(id: string, channel: string, event: string, data: unknown = {}) {
    this.send({ id, channel, event, data });
  }

  fail() {
    this.onerror?.({});
  }

  close() {
    this.closed = true;
  }
}

export function fakeFactory() {
  const made: FakeEventSource[] = [];
  const factory: EventSourceFactory = (url, init) => {
    const es = new FakeEventSource(url, init.withCredentials);
    made.push(es);
    return es;
  };
  return {
    factory,
    made,
    get last(): FakeEventSource {
      const es = made[made.length - 1];
      if (!es) throw new Error("no EventSource was made");
      return es;
    },
    get open(): FakeEventSource[] {
      return made.filter((e) => !e.closed);
    },
  };
}
