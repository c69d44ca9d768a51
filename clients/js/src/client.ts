/**
 * The framework-free client. It keeps ONE EventSource for the union of the channels its
 * subscribers want, and re-opens it (debounced, so that a burst of components mounting
 * costs one connection) when that set changes. It remembers the last stream id seen per
 * channel and sends it as `last_ack_<channel>` on every (re)connect, so the server replays
 * what was missed; ids at or below that mark are dropped, so no event is delivered twice.
 * Failed connections are retried for as long as the page lives, with capped exponential
 * backoff and jitter. Wire format: PROTOCOL.md. Nothing here touches the DOM; the
 * EventSource constructor and timers are the only browser hooks, and the first is injectable.
 */

import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { compareStreamIds, isStreamId } from "./stream-id.js";
import type {
  AnyEvents,
  ConnectionStatus,
  EventName,
  HistoryLost,
  RealtimeEvent,
} from "./types.js";

/** The part of the browser's EventSource the client uses. */
export interface EventSourceLike {
  onopen: ((ev: any) => unknown) | null;
  onmessage: ((ev: { data?: unknown }) => unknown) | null;
  onerror: ((ev: any) => unknown) | null;
  close(): void;
}

export type EventSourceFactory = (
  url: string,
  init: { withCredentials: boolean },
) => EventSourceLike;

export interface RealtimeClientOptions {
  /** The subscribe endpoint. Default `/api/realtime`. */
  url?: string;
  /** Send cookies cross-origin (EventSource `withCredentials`). */
  withCredentials?: boolean;
  /** Makes the EventSource; tests inject a fake. Default: the global `EventSource`. */
  eventSource?: EventSourceFactory;
  /** How long to wait for more subscription changes before re-opening. Default 20 ms. */
  debounceMs?: number;
  /** Silence (no message, not even a ping) after which the stream is re-opened. Default 75 s. */
  pingTimeoutMs?: number;
  /** Retry delays after a failure. */
  backoff?: BackoffOptions;
  /** Random source for the jitter, 0..1. */
  random?: () => number;
  /**
   * Retry at once, instead of waiting out the backoff, when the browser says it is back
   * online (`online` on window). Default true; without a window it does nothing.
   */
  retryWhenOnline?: boolean;
  /** Told of failures: a connection error, or the server's `error` event. */
  onError?: (error: RealtimeError) => void;
}

export interface RealtimeError {
  kind: "connection" | "server";
  message: string;
}

/** What one subscriber wants. */
export interface SubscribeOptions<E = AnyEvents, K extends EventName<E> = EventName<E>> {
  /** Channels to listen on. Default `["default"]`, as the server assumes. */
  channels?: readonly string[];
  /** Only these event names (`"namespace.name"`); all when absent. */
  events?: readonly K[];
  onData: (event: RealtimeEvent<E, K>) => void;
  /** The server could not replay everything since the last ack: entries were trimmed. */
  onHistoryLost?: (info: HistoryLost) => void;
}

export interface RealtimeClient<E = AnyEvents> {
  /** Adds a subscriber; returns the function that removes it. */
  subscribe<K extends EventName<E> = EventName<E>>(options: SubscribeOptions<E, K>): () => void;
  getStatus(): ConnectionStatus;
  /** Calls `listener` on every status change; returns the function that stops it. */
  subscribeStatus(listener: (status: ConnectionStatus) => void): () => void;
  /** The last id seen on `channel`, the one sent as `last_ack_<channel>`. */
  lastAck(channel: string): string | undefined;
  /**
   * Records that everything up to `id` on `channel` was seen elsewhere (e.g. loaded with
   * the history endpoint): the next connect replays only what came after.
   */
  ack(channel: string, id: string): void;
  /** The channels of the current connection, in query order. */
  channels(): string[];
  /** Drops the current connection and opens a new one now. */
  reconnect(): void;
  /** Closes for good: no connection, no timers, no more callbacks. */
  destroy(): void;
}

interface Subscriber {
  channels: Set<string>;
  events: Set<string> | null;
  onData: (event: any) => void;
  onHistoryLost?: (info: HistoryLost) => void;
}

const DEFAULT_CHANNELS = ["default"];

export function createRealtimeClient<E = AnyEvents>(
  options: RealtimeClientOptions = {},
): RealtimeClient<E> {
  const endpoint = options.url ?? "/api/realtime";
  const withCredentials = options.withCredentials ?? false;
  const debounceMs = options.debounceMs ?? 20;
  const pingTimeoutMs = options.pingTimeoutMs ?? 75_000;
  const random = options.random ?? Math.random;
  const makeEventSource = options.eventSource ?? defaultEventSource;

  const subscribers = new Set<Subscriber>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();
  const acks = new Map<string, string>();

  let status: ConnectionStatus = "disconnected";
  let source: EventSourceLike | null = null;
  let openChannels: string[] = [];
  let failures = 0;
  let destroyed = false;
  let syncTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;

  // While a retry waits, the network coming back is a better signal than the clock.
  const target = options.retryWhenOnline === false ? null : onlineTarget();
  let watchingOnline = false;
  function onOnline() {
    if (retryTimer !== undefined) connect();
  }
  function watchOnline(on: boolean) {
    if (!target || on === watchingOnline) return;
    watchingOnline = on;
    if (on) target.addEventListener("online", onOnline);
    else target.removeEventListener("online", onOnline);
  }

  function setStatus(next: ConnectionStatus) {
    if (next === status) return;
    status = next;
    for (const listener of [...statusListeners]) safeCall(listener, next);
  }

  function wantedChannels(): string[] {
    const union = new Set<string>();
    for (const sub of subscribers) for (const c of sub.channels) union.add(c);
    return [...union];
  }

  function scheduleSync() {
    if (destroyed || syncTimer !== undefined) return;
    syncTimer = setTimeout(sync, debounceMs);
  }

  function sync() {
    syncTimer = undefined;
    const wanted = wantedChannels();
    const alive = source !== null || retryTimer !== undefined;
    if (alive && sameSet(wanted, openChannels)) return;
    openChannels = wanted;
    if (wanted.length === 0) {
      closeSource();
      clearTimeout(retryTimer);
      retryTimer = undefined;
      watchOnline(false);
      setStatus("disconnected");
      return;
    }
    // A change of channels is not a failure: the backoff starts afresh.
    failures = 0;
    connect();
  }

  function connect() {
    closeSource();
    clearTimeout(retryTimer);
    retryTimer = undefined;
    watchOnline(false);
    setStatus("connecting");
    let es: EventSourceLike;
    try {
      es = makeEventSource(buildSubscribeUrl(endpoint, openChannels, acks), { withCredentials });
    } catch (error) {
      fail({ kind: "connection", message: `cannot open the event stream: ${String(error)}` });
      return;
    }
    source = es;
    // Handlers check that their source is still current: a fake or a slow browser may
    // call one after close().
    es.onopen = () => {
      if (source !== es) return;
      armPing();
      setStatus("connected");
    };
    es.onmessage = (ev) => {
      if (source !== es) return;
      armPing();
      if (status !== "connected") setStatus("connected");
      handleMessage(ev.data);
    };
    es.onerror = () => {
      if (source !== es) return;
      fail({ kind: "connection", message: "the event stream failed or was closed" });
    };
    armPing();
  }

  function closeSource() {
    clearTimeout(pingTimer);
    pingTimer = undefined;
    if (!source) return;
    const es = source;
    source = null;
    es.onopen = es.onmessage = es.onerror = null;
    es.close();
  }

  function armPing() {
    clearTimeout(pingTimer);
    pingTimer = setTimeout(() => {
      pingTimer = undefined;
      // Silence means a dead connection that no error reported (a sleeping laptop, a
      // proxy that dropped it): start over at once with the acks we have.
      if (source) connect();
    }, pingTimeoutMs);
  }

  function fail(error: RealtimeError) {
    closeSource();
    setStatus("error");
    if (options.onError) safeCall(options.onError, error);
    if (destroyed || openChannels.length === 0) return;
    const delay = backoffDelay(failures, options.backoff, random);
    failures += 1;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, delay);
    watchOnline(true);
  }

  function handleMessage(raw: unknown) {
    if (typeof raw !== "string") return;
    let msg: any;
    try {
      msg = JSON.parse(raw);
    } catch {
      return; // a frame we cannot read is skipped, as the server skips bad entries
    }
    if (msg === null || typeof msg !== "object") return;
    if (typeof msg.event === "string" && typeof msg.channel === "string") {
      deliver(msg);
      return;
    }
    switch (msg.type) {
      case "connected":
        failures = 0;
        if (typeof msg.channel === "string" && !acks.has(msg.channel)) {
          // Start the ack at the live cursor, so a drop before the first event on this
          // channel still replays what came after the subscription ("0-0": the stream
          // was empty, so everything in it is new).
          acks.set(msg.channel, isStreamId(msg.cursor) ? msg.cursor : "0-0");
        }
        break;
      case "reconnect":
        // The server is ending the stream on purpose; nothing is lost if we come back now.
        connect();
        break;
      case "error":
        fail({ kind: "server", message: String(msg.error ?? "server error") });
        break;
      case "history_lost":
        if (typeof msg.channel === "string") {
          const info: HistoryLost = {
            channel: msg.channel,
            lastAck: String(msg.last_ack ?? ""),
            oldest: String(msg.oldest ?? ""),
          };
          for (const sub of [...subscribers]) {
            if (sub.onHistoryLost && sub.channels.has(info.channel)) {
              safeCall(sub.onHistoryLost, info);
            }
          }
        }
        break;
      default: // ping, disconnected, and types of the future
        break;
    }
  }

  function deliver(msg: { id?: unknown; channel: string; event: string; data?: unknown }) {
    const id = typeof msg.id === "string" ? msg.id : "";
    if (isStreamId(id)) {
      const last = acks.get(msg.channel);
      if (last !== undefined && compareStreamIds(id, last) <= 0) return; // seen already
      acks.set(msg.channel, id);
    }
    const event = { id, channel: msg.channel, event: msg.event, data: msg.data };
    for (const sub of [...subscribers]) {
      if (!sub.channels.has(event.channel)) continue;
      if (sub.events && !sub.events.has(event.event)) continue;
      safeCall(sub.onData, event);
    }
  }

  const client: RealtimeClient<E> = {
    subscribe(opts) {
      if (destroyed) return () => {};
      const sub: Subscriber = {
        channels: new Set(opts.channels && opts.channels.length ? opts.channels : DEFAULT_CHANNELS),
        events: opts.events ? new Set<string>(opts.events) : null,
        onData: opts.onData,
        onHistoryLost: opts.onHistoryLost,
      };
      subscribers.add(sub);
      scheduleSync();
      return () => {
        if (subscribers.delete(sub)) scheduleSync();
      };
    },
    getStatus: () => status,
    subscribeStatus(listener) {
      statusListeners.add(listener);
      return () => {
        statusListeners.delete(listener);
      };
    },
    lastAck: (channel) => acks.get(channel),
    ack(channel, id) {
      if (!isStreamId(id)) throw new Error(`forrealtime: not a stream id: ${JSON.stringify(id)}`);
      const last = acks.get(channel);
      if (last === undefined || compareStreamIds(id, last) > 0) acks.set(channel, id);
    },
    channels: () => [...openChannels],
    reconnect() {
      if (!destroyed && openChannels.length > 0) connect();
    },
    destroy() {
      destroyed = true;
      clearTimeout(syncTimer);
      clearTimeout(retryTimer);
      syncTimer = retryTimer = undefined;
      watchOnline(false);
      closeSource();
      subscribers.clear();
      openChannels = [];
      setStatus("disconnected");
      statusListeners.clear();
    },
  };
  return client;
}

/**
 * The subscribe URL: `channel=a&channel=b&last_ack_a=ID`, encoded by URLSearchParams as
 * PROTOCOL.md section 1 requires. `endpoint` may carry a query of its own.
 */
export function buildSubscribeUrl(
  endpoint: string,
  channels: readonly string[],
  acks: ReadonlyMap<string, string>,
): string {
  const params = new URLSearchParams();
  for (const c of channels) params.append("channel", c);
  for (const c of channels) {
    const id = acks.get(c);
    if (id !== undefined) params.append(`last_ack_${c}`, id);
  }
  return endpoint + (endpoint.includes("?") ? "&" : "?") + params.toString();
}

function defaultEventSource(url: string, init: { withCredentials: boolean }): EventSourceLike {
  const ES = (globalThis as { EventSource?: new (url: string, init?: object) => EventSourceLike })
    .EventSource;
  if (!ES) {
    throw new Error(
      "forrealtime: no global EventSource here; pass `eventSource` to createRealtimeClient",
    );
  }
  return new ES(url, init);
}

interface OnlineTarget {
  addEventListener(type: "online", listener: () => void): void;
  removeEventListener(type: "online", listener: () => void): void;
}

function onlineTarget(): OnlineTarget | null {
  const w = (globalThis as { window?: Partial<OnlineTarget> }).window;
  return w && typeof w.addEventListener === "function" ? (w as OnlineTarget) : null;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((x) => s.has(x));
}

// One subscriber's exception must not stop delivery to the others, nor be swallowed.
function safeCall<T>(fn: (arg: T) => unknown, arg: T) {
  try {
    fn(arg);
  } catch (error) {
    const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
    if (report) report(error);
    else setTimeout(() => {
      throw error;
    });
  }
}
