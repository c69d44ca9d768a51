/**
 * One stream per browser: the tabs (and clients) of an origin that use the same endpoint
 * elect a leader with a Web Lock; the leader holds the EventSource for the union of every
 * tab's channels and passes each message on through a BroadcastChannel; the others feed
 * those messages to their own client, which filters, acks and de-duplicates them exactly
 * as if they came from their own EventSource. When the leader goes (tab closed, client
 * destroyed), the browser hands the lock to a waiting tab, which reconnects from its acks:
 * it saw every message the old leader passed on, so nothing is lost, and anything sent
 * twice is dropped by id.
 *
 * Messages on the channel (all carry `t`):
 *   hello {from}                  a tab starts: everybody answers with `want`, the leader with `state`
 *   want  {from, channels, acks}  a tab's channels (and its acks, used where the leader has none)
 *   bye   {from}                  a tab leaves
 *   raw   {data}                  one SSE message, verbatim, from the leader
 *   state {status, error}         the leader's connection status
 *   reconnect {}                  a follower asks the leader to reconnect
 */

import { compareStreamIds } from "./stream-id.js";
import type { ConnectionStatus, RealtimeError } from "./types.js";

export interface TabHooks {
  becameLeader(): void;
  raw(data: string): void;
  state(status: ConnectionStatus, error: RealtimeError | null): void;
  wantsChanged(): void;
  reconnectRequested(): void;
}

export interface TabLink {
  setWants(channels: readonly string[], acks: ReadonlyMap<string, string>): void;
  remoteChannels(): Iterable<string>;
  /** Per channel, the oldest ack a tab reported. */
  remoteAcks(): Map<string, string>;
  sendRaw(data: string): void;
  sendState(status: ConnectionStatus, error: RealtimeError | null): void;
  requestReconnect(): void;
  close(): void;
}

interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<unknown>,
  ): Promise<unknown>;
}

interface BroadcastChannelLike {
  onmessage: ((ev: { data: any }) => unknown) | null;
  postMessage(data: unknown): void;
  close(): void;
}

export interface TabEnvironment {
  locks: LockManagerLike;
  BroadcastChannel: new (name: string) => BroadcastChannelLike;
}

function environment(): TabEnvironment | null {
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: TabEnvironment["BroadcastChannel"];
    document?: unknown;
  };
  // Only in a browser page: Node and workers have BroadcastChannel but no tabs to share.
  if (!g.document || !g.navigator?.locks || typeof g.BroadcastChannel !== "function") return null;
  return { locks: g.navigator.locks, BroadcastChannel: g.BroadcastChannel };
}

export function tabSharingAvailable(env: TabEnvironment | null = environment()): boolean {
  return env !== null;
}

export function createTabLink(
  name: string,
  hooks: TabHooks,
  env: TabEnvironment | null = environment(),
): TabLink {
  if (!env) throw new Error("forrealtime: tab sharing needs Web Locks and BroadcastChannel");
  const id = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const bc = new env.BroadcastChannel(name);
  const wants = new Map<string, { channels: string[]; acks: [string, string][] }>();
  let mine: { channels: string[]; acks: [string, string][] } = { channels: [], acks: [] };
  let leader = false;
  let closed = false;
  let release: (() => void) | null = null;
  const abort = typeof AbortController === "function" ? new AbortController() : null;

  const post = (msg: object) => {
    if (!closed) bc.postMessage(msg);
  };

  bc.onmessage = (ev) => {
    const msg = ev.data;
    if (closed || !msg || typeof msg !== "object") return;
    switch (msg.t) {
      case "hello":
        post({ t: "want", from: id, ...mine });
        if (leader && lastState) post(lastState);
        break;
      case "want":
        if (typeof msg.from === "string" && Array.isArray(msg.channels)) {
          wants.set(msg.from, { channels: msg.channels, acks: Array.isArray(msg.acks) ? msg.acks : [] });
          hooks.wantsChanged();
        }
        break;
      case "bye":
        if (wants.delete(msg.from)) hooks.wantsChanged();
        break;
      case "raw":
        if (typeof msg.data === "string") hooks.raw(msg.data);
        break;
      case "state":
        hooks.state(msg.status, msg.error ?? null);
        break;
      case "reconnect":
        hooks.reconnectRequested();
        break;
    }
  };

  let lastState: object | null = null;

  env.locks
    .request(name, abort ? { signal: abort.signal } : {}, () => {
      if (closed) return Promise.resolve();
      leader = true;
      hooks.becameLeader();
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    })
    .catch(() => {
      // aborted by close() while waiting: nothing to do
    });

  const onPageHide = () => post({ t: "bye", from: id });
  const w = (globalThis as { addEventListener?: (t: string, l: () => void) => void }).addEventListener;
  if (typeof w === "function") w.call(globalThis, "pagehide", onPageHide);

  post({ t: "hello", from: id });

  return {
    setWants(channels, acks) {
      mine = { channels: [...channels], acks: [...acks] };
      post({ t: "want", from: id, ...mine });
    },
    *remoteChannels() {
      for (const w of wants.values()) yield* w.channels;
    },
    remoteAcks() {
      const out = new Map<string, string>();
      for (const w of wants.values()) {
        for (const [c, ack] of w.acks) {
          const prev = out.get(c);
          if (prev === undefined || compareStreamIds(ack, prev) < 0) out.set(c, ack);
        }
      }
      return out;
    },
    sendRaw(data) {
      post({ t: "raw", data });
    },
    sendState(status, error) {
      lastState = { t: "state", status, error };
      post(lastState);
    },
    requestReconnect() {
      post({ t: "reconnect" });
    },
    close() {
      if (closed) return;
      post({ t: "bye", from: id });
      closed = true;
      const r = (globalThis as { removeEventListener?: (t: string, l: () => void) => void })
        .removeEventListener;
      if (typeof r === "function") r.call(globalThis, "pagehide", onPageHide);
      abort?.abort();
      release?.();
      bc.onmessage = null;
      bc.close();
    },
  };
}
