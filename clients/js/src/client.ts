/**
 * The framework-free client. It keeps ONE EventSource for the union of the channels its
 * subscribers want (and, with tab sharing, of every tab of the origin: see tabs.ts), and
 * re-opens it (debounced, so that a burst of components mounting costs one connection)
 * when that set changes. It remembers the last stream id seen per channel and sends it as
 * `last_ack_<channel>` on every (re)connect, so the server replays what was missed; ids at
 * or below that mark are dropped, so no event is delivered twice. Failed connections are
 * retried for as long as the page lives, with capped exponential backoff and jitter,
 * except a refused credential (401/403), which waits for `getToken` to give another.
 * Wire format: PROTOCOL.md. Nothing here touches the DOM; the EventSource constructor,
 * fetch and timers are the only browser hooks, and they are injectable.
 */

import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { compareStreamIds, isStreamId } from "./stream-id.js";
import { createTabLink, tabSharingAvailable, type TabEnvironment, type TabLink } from "./tabs.js";
import type {
  AnyEvents,
  ConnectionStatus,
  EventData,
  EventName,
  HistoryLost,
  RealtimeError,
  RealtimeEvent,
} from "./types.js";

export type { RealtimeError } from "./types.js";

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

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface RealtimeClientOptions {
  /**
   * The endpoints, as the original package takes them: `url` is the subscribe endpoint
   * (default `/api/realtime`); `historyUrl` and `emitUrl` default to it with its last path
   * segment replaced by `history` and `emit`.
   */
  api?: { url?: string; withCredentials?: boolean; historyUrl?: string; emitUrl?: string };
  /** Short for `api.url`. */
  url?: string;
  /** Short for `api.withCredentials`: send cookies cross-origin. */
  withCredentials?: boolean;
  /** Makes the EventSource; tests inject a fake. Default: the global `EventSource`. */
  eventSource?: EventSourceFactory;
  /** The original package's name for `eventSource`. */
  eventSourceFactory?: EventSourceFactory;
  /** `fetch` for the refusal probe, `history()` and `emit()`. Default: the global one. */
  fetch?: FetchLike;
  /**
   * Supplies the credential, sent as the `token` query parameter of the stream (EventSource
   * cannot set headers) and as `Authorization: Bearer` by `history()`/`emit()`. Called
   * before every connect and when the server says `grant_expired`. `null`/`undefined`: none.
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** The query parameter that carries the token. Default `token`. */
  tokenParam?: string;
  /**
   * Failures in a row after which the status shows `error` (the original's default, 3).
   * Retries go on behind it (the original stopped); a success shows `connected` again.
   */
  maxReconnectAttempts?: number;
  /** How long to wait for more subscription changes before re-opening. Default 20 ms. */
  debounceMs?: number;
  /** Silence (no message, not even a ping) after which the stream is re-opened. Default 75 s. */
  pingTimeoutMs?: number;
  /**
   * The server's `reconnect` event (a restart, a maximum duration) is followed after a
   * random delay of up to this many ms, so that a gateway restart does not bring every
   * client back in the same millisecond. Default 1000.
   */
  reconnectJitterMs?: number;
  /** Retry delays after a failure. */
  backoff?: BackoffOptions;
  /** Random source for the jitter, 0..1. */
  random?: () => number;
  /**
   * Retry at once, instead of waiting out the backoff, when the browser says it is back
   * online (`online` on window). Default true; without a window it does nothing.
   */
  retryWhenOnline?: boolean;
  /**
   * Share one stream between the tabs of this origin (Web Locks + BroadcastChannel): one
   * leader tab holds the connection for the union of every tab's channels and passes the
   * events on. Default true where both exist; elsewhere every tab connects by itself.
   * A string names the group (default: derived from the endpoint).
   */
  shareTabs?: boolean | string;
  /** Web Locks and BroadcastChannel for tab sharing; tests inject their own. */
  tabEnvironment?: TabEnvironment;
  /**
   * While the page is hidden (`visibilitychange`) for this many ms, this tab wants no
   * channel: its stream (or its share of the leader's) is closed, and when it is visible
   * again it reconnects from its acks, losing nothing the server still has. Off by default.
   */
  closeWhenHiddenMs?: number;
  /**
   * When the stream fails before opening, ask the same URL once with `fetch` to learn the
   * HTTP status (EventSource hides it): 401/403 become a refusal. Default true.
   */
  probe?: boolean;
  /** Told of failures: a connection error, the server's `error` event, a refusal. */
  onError?: (error: RealtimeError) => void;
}

/** What one subscriber wants. */
export interface SubscribeOptions<E = AnyEvents, K extends EventName<E> = EventName<E>> {
  /**
   * Channels to listen on. Default `["default"]`, as the server assumes. `undefined`,
   * `null` and `""` entries are dropped; if none is left, nothing is subscribed.
   */
  channels?: readonly (string | null | undefined)[];
  /** Only these event names (`"namespace.name"`); all when absent or empty. */
  events?: readonly K[];
  onData?: (event: RealtimeEvent<E, K>) => void;
  /** The server could not replay everything since the last ack: entries were trimmed. */
  onHistoryLost?: (info: HistoryLost) => void;
  /** `false`: subscribe nothing (as in the original). */
  enabled?: boolean;
}

/** `GET /api/history` arguments. */
export interface HistoryOptions {
  /** Default `default`. */
  channel?: string;
  /** At most this many (the server caps at 1000). */
  limit?: number;
  /** Only entries after this id (exclusive), for paging. */
  after?: string;
  /** Milliseconds since the epoch, inclusive. */
  start?: number;
  end?: number;
  /** The newest `last` entries, returned oldest first (`?last=N`). */
  last?: number;
}

/** A `history()` or `emit()` call that the server refused, or that could not be made. */
export class RealtimeRequestError extends Error {
  override readonly name = "RealtimeRequestError";
  constructor(
    message: string,
    /** The HTTP status, 0 when there was no answer. */
    readonly status: number,
    /** The server's `error` text when it sent one. */
    readonly serverError?: string,
  ) {
    super(message);
  }
}

export interface RealtimeChannelHandle<E = AnyEvents> {
  emit<K extends EventName<E>>(event: K, data: EventData<E, K>): Promise<string>;
  history(options?: Omit<HistoryOptions, "channel">): Promise<RealtimeEvent<E>[]>;
}

export interface RealtimeClient<E = AnyEvents> {
  /** Adds a subscriber; returns the function that removes it. */
  subscribe<K extends EventName<E> = EventName<E>>(options: SubscribeOptions<E, K>): () => void;
  getStatus(): ConnectionStatus;
  /** Why the connection is not open (`null` when it is, or nothing was tried). */
  getError(): RealtimeError | null;
  /** Calls `listener` on every change of status or error; returns the function that stops it. */
  subscribeStatus(listener: (status: ConnectionStatus) => void): () => void;
  /** The last id seen on `channel`, the one sent as `last_ack_<channel>`. */
  lastAck(channel: string): string | undefined;
  /**
   * Records that everything up to `id` on `channel` was seen elsewhere (e.g. loaded with
   * `history()` or rendered on the server): the next connect replays only what came after.
   */
  ack(channel: string, id: string): void;
  /** The channels of the current connection, in query order (this tab's when it follows). */
  channels(): string[];
  /** `leader`: this tab holds the stream; `follower`: another tab does; `alone`: no sharing. */
  role(): "leader" | "follower" | "alone";
  /** Drops the current connection and opens a new one now (also after a refusal). */
  reconnect(): void;
  /** Emits on the `default` channel (`POST /api/emit`); resolves to the stored id. */
  emit<K extends EventName<E>>(
    event: K,
    data: EventData<E, K>,
    options?: { channel?: string },
  ): Promise<string>;
  /** Stored events, oldest first (`GET /api/history`). */
  history(options?: HistoryOptions): Promise<RealtimeEvent<E>[]>;
  /** `emit` and `history` bound to one channel, as the original's `realtime.channel(name)`. */
  channel(name: string): RealtimeChannelHandle<E>;
  /** Closes for good: no connection, no timers, no more callbacks. */
  destroy(): void;
}

interface Subscriber {
  channels: Set<string>;
  events: Set<string> | null;
  onData?: (event: any) => void;
  onHistoryLost?: (info: HistoryLost) => void;
}

const DEFAULT_CHANNELS = ["default"];

export function createRealtimeClient<E = AnyEvents>(
  options: RealtimeClientOptions = {},
): RealtimeClient<E> {
  const endpoint = options.api?.url ?? options.url ?? "/api/realtime";
  const withCredentials = options.api?.withCredentials ?? options.withCredentials ?? false;
  const historyUrl = options.api?.historyUrl ?? siblingEndpoint(endpoint, "history");
  const emitUrl = options.api?.emitUrl ?? siblingEndpoint(endpoint, "emit");
  const debounceMs = options.debounceMs ?? 20;
  const pingTimeoutMs = options.pingTimeoutMs ?? 75_000;
  const reconnectJitterMs = options.reconnectJitterMs ?? 1000;
  const maxAttempts = Math.max(1, options.maxReconnectAttempts ?? 3);
  const tokenParam = options.tokenParam ?? "token";
  const random = options.random ?? Math.random;
  const makeEventSource = options.eventSource ?? options.eventSourceFactory ?? defaultEventSource;
  const fetchFn: FetchLike | undefined =
    options.fetch ?? (typeof globalThis.fetch === "function" ? globalThis.fetch.bind(globalThis) : undefined);
  const credentials: RequestCredentials = withCredentials ? "include" : "same-origin";

  const subscribers = new Set<Subscriber>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();
  const acks = new Map<string, string>();

  let status: ConnectionStatus = "disconnected";
  let lastError: RealtimeError | null = null;
  let source: EventSourceLike | null = null;
  let openChannels: string[] = [];
  let failures = 0;
  let destroyed = false;
  let hidden = false;
  let attempt = 0; // bumped by every connect/close: a stale async step sees it moved
  let opened = false; // the current EventSource has opened
  let currentToken: string | null | undefined;
  let refusedToken: { token: string | null | undefined } | null = null;
  let syncTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;
  let hideTimer: ReturnType<typeof setTimeout> | undefined;

  // While a retry waits, the network coming back is a better signal than the clock.
  const target = options.retryWhenOnline === false ? null : onlineTarget();
  let watchingOnline = false;
  function onOnline() {
    if (retryTimer !== undefined && !refusedToken) connect();
  }
  function watchOnline(on: boolean) {
    if (!target || on === watchingOnline) return;
    watchingOnline = on;
    if (on) target.addEventListener("online", onOnline);
    else target.removeEventListener("online", onOnline);
  }

  // ---- tab sharing: who holds the connection -------------------------------------------
  const share = options.shareTabs ?? true;
  let link: TabLink | null = null;
  let leader = true; // without sharing, every client is its own leader
  const tabEnv = options.tabEnvironment ?? null;
  if (share !== false && (tabEnv ?? tabSharingAvailable())) {
    leader = false;
    link = createTabLink(typeof share === "string" ? share : `forrealtime:${endpoint}`, {
      becameLeader() {
        if (destroyed) return;
        leader = true;
        openChannels = [];
        scheduleSync();
      },
      raw(data) {
        if (!leader) handleMessage(data);
      },
      state(s, e) {
        if (leader) return;
        lastError = e;
        setStatus(s, true);
      },
      wantsChanged() {
        if (leader) scheduleSync();
      },
      reconnectRequested() {
        if (leader) client.reconnect();
      },
    }, tabEnv ?? undefined);
  }

  // ---- visibility ----------------------------------------------------------------------
  const doc = (globalThis as { document?: VisibilityTarget }).document;
  const closeWhenHidden =
    options.closeWhenHiddenMs !== undefined && doc && typeof doc.addEventListener === "function";
  function onVisibility() {
    clearTimeout(hideTimer);
    hideTimer = undefined;
    if (doc!.visibilityState === "hidden") {
      hideTimer = setTimeout(() => {
        hideTimer = undefined;
        hidden = true;
        publishWants();
        scheduleSync();
      }, options.closeWhenHiddenMs);
    } else if (hidden) {
      hidden = false;
      publishWants();
      scheduleSync();
    }
  }
  if (closeWhenHidden) doc!.addEventListener("visibilitychange", onVisibility);

  function setStatus(next: ConnectionStatus, force = false) {
    if (next === status && !force) return;
    status = next;
    for (const listener of [...statusListeners]) safeCall(listener, next);
  }

  function ownChannels(): string[] {
    if (hidden) return [];
    const union = new Set<string>();
    for (const sub of subscribers) for (const c of sub.channels) union.add(c);
    return [...union];
  }

  function wantedChannels(): string[] {
    const union = new Set(ownChannels());
    if (link) for (const c of link.remoteChannels()) union.add(c);
    return [...union];
  }

  /**
   * The acks sent on connect: ours (a leader saw everything it passed on), and for a
   * channel we have none for, the oldest one a following tab reported (it acked history it
   * loaded, or it comes back after being hidden).
   */
  function connectAcks(): Map<string, string> {
    const out = new Map(acks);
    if (link) for (const [c, id] of link.remoteAcks()) if (!out.has(c)) out.set(c, id);
    return out;
  }

  function publishWants() {
    if (link) link.setWants(ownChannels(), acks);
  }

  function broadcastState() {
    if (link && leader) link.sendState(status, lastError);
  }

  function scheduleSync() {
    if (destroyed || syncTimer !== undefined) return;
    syncTimer = setTimeout(sync, debounceMs);
  }

  function sync() {
    syncTimer = undefined;
    if (!leader) return;
    const wanted = wantedChannels();
    const alive = source !== null || retryTimer !== undefined || refusedToken !== null;
    if (alive && sameSet(wanted, openChannels)) return;
    openChannels = wanted;
    if (wanted.length === 0) {
      stop();
      lastError = null;
      setStatus("disconnected");
      broadcastState();
      return;
    }
    // A change of channels is not a failure: the backoff starts afresh.
    failures = 0;
    refusedToken = null;
    connect();
  }

  function stop() {
    attempt++;
    closeSource();
    clearTimeout(retryTimer);
    retryTimer = undefined;
    watchOnline(false);
  }

  function showConnecting() {
    // Behind `error` (too many failures, a refusal) retries go on quietly, as the
    // original's status stayed `error`; otherwise `connecting` as in the original.
    if (status !== "error") setStatus("connecting");
    broadcastState();
  }

  async function connect() {
    stop();
    if (destroyed || openChannels.length === 0) return;
    const my = attempt;
    showConnecting();
    let token: string | null | undefined;
    if (options.getToken) {
      try {
        token = await options.getToken();
      } catch (error) {
        if (my !== attempt) return;
        fail({ kind: "token", message: `getToken failed: ${String(error)}`, cause: error });
        return;
      }
      if (my !== attempt) return;
      if (refusedToken && refusedToken.token === token) {
        // The same credential was refused: do not knock again with it; ask later.
        failures += 1;
        scheduleRetry(true);
        return;
      }
    }
    refusedToken = null;
    currentToken = token;
    const url = buildSubscribeUrl(endpoint, openChannels, connectAcks(), token, tokenParam);
    let es: EventSourceLike;
    try {
      es = makeEventSource(url, { withCredentials });
    } catch (error) {
      fail({ kind: "connection", message: `cannot open the event stream: ${String(error)}` });
      return;
    }
    source = es;
    opened = false;
    // Handlers check that their source is still current: a fake or a slow browser may
    // call one after close().
    es.onopen = () => {
      if (source !== es) return;
      opened = true;
      armPing();
      connectedNow();
    };
    es.onmessage = (ev) => {
      if (source !== es) return;
      opened = true;
      armPing();
      if (status !== "connected") connectedNow();
      if (typeof ev.data === "string") {
        if (link) link.sendRaw(ev.data);
        handleMessage(ev.data);
      }
    };
    es.onerror = () => {
      if (source !== es) return;
      const beforeOpen = !opened;
      closeSource();
      if (beforeOpen && fetchFn && options.probe !== false) void probe(url, my);
      else fail({ kind: "connection", message: "the event stream failed or was closed" });
    };
    armPing();
  }

  function connectedNow() {
    lastError = null;
    setStatus("connected", true);
    broadcastState();
  }

  /**
   * EventSource reports neither the status nor the body of a failed request. When it fails
   * before opening, the same URL is asked once with fetch: 401/403 is a refusal (the body
   * of an accepted stream is dropped at once); anything else, or no answer, is an ordinary
   * failure.
   */
  async function probe(url: string, my: number) {
    let httpStatus = 0;
    let text = "";
    const ac = typeof AbortController === "function" ? new AbortController() : null;
    try {
      const res = await fetchFn!(url, {
        credentials,
        headers: { accept: "text/event-stream" },
        signal: ac?.signal,
        cache: "no-store",
      });
      httpStatus = res.status;
      if (httpStatus === 401 || httpStatus === 403) text = await res.text().catch(() => "");
    } catch {
      // no answer: an ordinary failure
    } finally {
      ac?.abort();
    }
    if (my !== attempt || destroyed) return;
    if (httpStatus === 401 || httpStatus === 403) {
      refusedToken = { token: currentToken };
      const reason = serverErrorText(text) ?? (httpStatus === 401 ? "unauthorized" : "forbidden");
      fail(
        httpStatus === 401
          ? { kind: "unauthorized", status: 401, message: reason }
          : { kind: "forbidden", status: 403, message: reason },
      );
      return;
    }
    fail({
      kind: "connection",
      message: httpStatus
        ? `the event stream was refused with HTTP ${httpStatus}`
        : "the event stream could not be opened",
      ...(httpStatus ? { status: httpStatus } : {}),
    });
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
      if (source) {
        setStatus("disconnected");
        void connect();
      }
    }, pingTimeoutMs);
  }

  function fail(error: RealtimeError) {
    attempt++;
    closeSource();
    failures += 1;
    lastError = error;
    const refused = error.kind === "unauthorized" || error.kind === "forbidden";
    setStatus(refused || error.kind === "server" || failures >= maxAttempts ? "error" : "disconnected", true);
    broadcastState();
    if (options.onError) safeCall(options.onError, error);
    scheduleRetry(refused);
  }

  /**
   * After a refusal, only a different token is worth trying: without `getToken` the client
   * waits for `reconnect()`; with it, it asks for one on the backoff schedule.
   */
  function scheduleRetry(refused: boolean) {
    if (destroyed || openChannels.length === 0) return;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (refused && !options.getToken) return;
    const delay = backoffDelay(Math.max(0, failures - 1), options.backoff, random);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    if (!refused) watchOnline(true);
  }

  function handleMessage(raw: string) {
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
        if (leader) failures = 0;
        if (typeof msg.channel === "string" && !acks.has(msg.channel)) {
          // Start the ack at the live cursor, so a drop before the first event on this
          // channel still replays what came after the subscription ("0-0": the stream
          // was empty, so everything in it is new).
          acks.set(msg.channel, isStreamId(msg.cursor) ? msg.cursor : "0-0");
        }
        break;
      case "reconnect":
        // The server is ending the stream on purpose; nothing is lost if we come back
        // soon. A random delay spreads the clients of a restarting gateway.
        if (leader) reconnectSoon();
        break;
      case "grant_expired":
        // The credential ran out: ask getToken for a new one and resume from the acks.
        if (leader) void connect();
        break;
      case "error":
        if (leader) fail({ kind: "server", message: String(msg.error ?? "server error") });
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

  function reconnectSoon() {
    stop();
    showConnecting();
    const my = attempt;
    const delay = Math.round(random() * reconnectJitterMs);
    if (delay <= 0) {
      void connect();
      return;
    }
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (my === attempt) void connect();
    }, delay);
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
      if (sub.onData) safeCall(sub.onData, event);
    }
  }

  async function request(url: string, init: RequestInit): Promise<any> {
    if (!fetchFn) throw new RealtimeRequestError("forrealtime: no fetch here; pass `fetch`", 0);
    const headers = new Headers(init.headers);
    if (options.getToken) {
      const token = await options.getToken();
      if (token) headers.set("authorization", `Bearer ${token}`);
    }
    let res: Response;
    try {
      res = await fetchFn(url, { ...init, headers, credentials });
    } catch (error) {
      throw new RealtimeRequestError(`forrealtime: ${url} could not be reached: ${String(error)}`, 0);
    }
    const text = await res.text();
    if (!res.ok) {
      const reason = serverErrorText(text);
      throw new RealtimeRequestError(
        `forrealtime: ${url} answered ${res.status}${reason ? `: ${reason}` : ""}`,
        res.status,
        reason,
      );
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new RealtimeRequestError(`forrealtime: ${url} answered no JSON`, res.status);
    }
  }

  async function emit(channel: string, event: string, data: unknown): Promise<string> {
    const body = await request(emitUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel, event, data }),
    });
    if (typeof body?.id !== "string") throw new RealtimeRequestError("forrealtime: emit answered no id", 200);
    return body.id;
  }

  async function history(opts: HistoryOptions = {}): Promise<any[]> {
    const params = new URLSearchParams();
    params.set("channel", opts.channel ?? "default");
    if (opts.limit !== undefined) params.set("limit", String(opts.limit));
    if (opts.after !== undefined) params.set("after", opts.after);
    if (opts.start !== undefined) params.set("start", String(opts.start));
    if (opts.end !== undefined) params.set("end", String(opts.end));
    if (opts.last !== undefined) params.set("last", String(opts.last));
    const url = historyUrl + (historyUrl.includes("?") ? "&" : "?") + params.toString();
    const body = await request(url, { method: "GET" });
    if (!Array.isArray(body)) throw new RealtimeRequestError("forrealtime: history answered no array", 200);
    return body;
  }

  const client: RealtimeClient<E> = {
    subscribe(opts) {
      if (destroyed || opts.enabled === false) return () => {};
      const channels = opts.channels
        ? opts.channels.filter((c): c is string => typeof c === "string" && c !== "")
        : DEFAULT_CHANNELS;
      if (channels.length === 0) return () => {};
      const sub: Subscriber = {
        channels: new Set(channels),
        events: opts.events && opts.events.length > 0 ? new Set<string>(opts.events) : null,
        onData: opts.onData,
        onHistoryLost: opts.onHistoryLost,
      };
      subscribers.add(sub);
      publishWants();
      scheduleSync();
      return () => {
        if (subscribers.delete(sub)) {
          publishWants();
          scheduleSync();
        }
      };
    },
    getStatus: () => status,
    getError: () => lastError,
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
      publishWants();
    },
    channels: () => (leader ? [...openChannels] : ownChannels()),
    role: () => (link ? (leader ? "leader" : "follower") : "alone"),
    reconnect() {
      if (destroyed) return;
      if (!leader) {
        link?.requestReconnect();
        return;
      }
      refusedToken = null;
      failures = 0;
      if (openChannels.length > 0) void connect();
    },
    emit: (event, data, o) => emit(o?.channel ?? "default", event, data),
    history: (o) => history(o) as Promise<RealtimeEvent<E>[]>,
    channel: (name) => ({
      emit: (event, data) => emit(name, event, data),
      history: (o) => history({ ...o, channel: name }) as Promise<RealtimeEvent<E>[]>,
    }),
    destroy() {
      destroyed = true;
      clearTimeout(syncTimer);
      clearTimeout(hideTimer);
      syncTimer = hideTimer = undefined;
      stop();
      if (closeWhenHidden) doc!.removeEventListener("visibilitychange", onVisibility);
      subscribers.clear();
      openChannels = [];
      if (link) {
        link.close();
        link = null;
      }
      lastError = null;
      setStatus("disconnected");
      statusListeners.clear();
    },
  };
  return client;
}

/**
 * The subscribe URL: `channel=a&channel=b&last_ack_a=ID[&token=T]`, encoded by
 * URLSearchParams as PROTOCOL.md section 1 requires. `endpoint` may carry a query of its own.
 */
export function buildSubscribeUrl(
  endpoint: string,
  channels: readonly string[],
  acks: ReadonlyMap<string, string>,
  token?: string | null,
  tokenParam = "token",
): string {
  const params = new URLSearchParams();
  for (const c of channels) params.append("channel", c);
  for (const c of channels) {
    const id = acks.get(c);
    if (id !== undefined) params.append(`last_ack_${c}`, id);
  }
  if (token) params.append(tokenParam, token);
  return endpoint + (endpoint.includes("?") ? "&" : "?") + params.toString();
}

/** `/api/realtime` -> `/api/history`: the last path segment replaced, any query dropped. */
export function siblingEndpoint(endpoint: string, name: string): string {
  const path = endpoint.split(/[?#]/, 1)[0] ?? "";
  const slash = path.lastIndexOf("/");
  return slash < 0 ? name : path.slice(0, slash + 1) + name;
}

function serverErrorText(text: string): string | undefined {
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return body.error;
  } catch {
    // not JSON
  }
  const t = text.trim();
  return t ? t.slice(0, 200) : undefined;
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

interface VisibilityTarget {
  visibilityState: string;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
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
