/**
 * `@forrealtime/server`: typed emit, batches and history against the forrealtime gateway
 * from any server runtime that has `fetch` (Node 18+, Bun, Deno, edge workers). No
 * dependencies; Zod is optional (a schema of Zod types gives both the types and a check
 * of every payload before it is sent).
 *
 *     const realtime = new Realtime({ url: "http://127.0.0.1:8787", schema, token });
 *     await realtime.channel("room:1").emit("chat.message", { text: "hi", user: "ada" });
 *     const last20 = await realtime.channel("room:1").history({ last: 20 });
 *
 * Each emit (and each batch) carries an `Idempotency-Key`, the same on every retry, so a
 * retry after a 503/504 or a dropped connection never stores the event twice on a gateway
 * that honours the key.
 */

// ---- event typing (the same rules as @forrealtime/client) -----------------------------

/** Any event map; the untyped default: every name is a string and data unknown. */
export type AnyEvents = Record<string, unknown>;

/** A payload type as written: a plain type, or a Zod schema (v4 `_zod.output`, v3 `_output`). */
export type Payload<T> = T extends { readonly _zod: { readonly output: infer O } }
  ? O
  : T extends { readonly _output: infer O; readonly _def: unknown }
    ? O
    : T;

/** An event map, or something carrying one in the phantom `"~events"` (a `Realtime`). */
export type ResolveEvents<T> = string extends keyof T
  ? T
  : T extends { readonly "~events"?: infer S }
    ? NonNullable<S>
    : T;

type FlatKeys<E> = {
  [K in keyof E & string]: K extends `${string}.${string}` ? K : `${K}.${keyof E[K] & string}`;
}[keyof E & string];

type PayloadOf<E, K extends string> = K extends keyof E
  ? E[K]
  : K extends `${infer N}.${infer M}`
    ? N extends keyof E
      ? M extends keyof E[N]
        ? E[N][M]
        : never
      : never
    : never;

type Flat<E> = string extends keyof E
  ? Record<string, unknown>
  : { [K in FlatKeys<E>]: Payload<PayloadOf<E, K>> };

/** `"namespace.name"` -> payload, from a flat or nested (codegen, Zod) map. */
export type FlatEvents<E> = Flat<ResolveEvents<E>>;
export type EventName<E> = keyof FlatEvents<E> & string;
export type EventData<E, K extends EventName<E>> = FlatEvents<E>[K];

/** A stored event as history returns it; a union discriminated by `event`. */
export type HistoryMessage<E = AnyEvents, K extends EventName<E> = EventName<E>> = {
  [N in K]: { id: string; channel: string; event: N; data: FlatEvents<E>[N] };
}[K];

// ---- options --------------------------------------------------------------------------

export interface RetryOptions {
  /** Tries in all, the first included. Default 5; 1 turns retries off. */
  attempts?: number;
  /** Delay before the first retry. Default 100 ms; doubled each time. */
  initialMs?: number;
  /** The longest delay (a `Retry-After` is honoured up to this). Default 5000 ms. */
  maxMs?: number;
}

export interface RealtimeOptions<S = unknown> {
  /** The gateway: `http://127.0.0.1:8787`. Paths `/api/emit` and `/api/history` are added. */
  url: string;
  /** Override the endpoints (full URLs) when the gateway sits behind another path. */
  endpoints?: { emit?: string; history?: string; realtime?: string };
  /**
   * Sent as `Authorization: Bearer`: the gateway's `--emit-token`, or a JWT whose
   * `realtime` claim grants emit/history. A function is called for every request.
   */
  token?: string | (() => string | Promise<string>);
  /** A schema tree of Zod types (`{ chat: { message: z.object(...) } }`): types and checks. */
  schema?: S;
  /** Retries on 503, 504 and network errors. */
  retry?: RetryOptions;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** The fetch to use. Default: the global one. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

export interface EmitOptions {
  /** Default `default`. */
  channel?: string;
  /** Default: a fresh random key per call (kept across its retries). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface HistoryArgs {
  /** At most this many (the gateway caps at 1000). */
  limit?: number;
  /** Only entries after this id (exclusive): paging. */
  after?: string;
  /** Milliseconds since the epoch, inclusive. */
  start?: number;
  end?: number;
  /** The newest `last` entries, oldest first (`GET /api/history?last=N`). */
  last?: number;
  signal?: AbortSignal;
}

export type BatchItem<E, K extends EventName<E> = EventName<E>> = {
  [N in K]: {
    channel?: string;
    event: N;
    data: EventData<E, N>;
    /** This item's key; default `<the batch's key>:<index>`, as the gateway derives it. */
    idempotencyKey?: string;
  };
}[K];

/** The gateway refused a request, or could not be reached after every retry. */
export class RealtimeServerError extends Error {
  override readonly name = "RealtimeServerError";
  constructor(
    message: string,
    /** The HTTP status; 0 when there was no answer. */
    readonly status: number,
    /** The gateway's `{"error"}` text. */
    readonly serverError: string | undefined,
    /** Tries made. */
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface RealtimeChannel<E> {
  readonly name: string;
  emit<K extends EventName<E>>(
    event: K,
    data: EventData<E, K>,
    options?: Omit<EmitOptions, "channel">,
  ): Promise<string>;
  batch(
    items: readonly Omit<BatchItem<E>, "channel">[],
    options?: Omit<EmitOptions, "channel">,
  ): Promise<string[]>;
  history(args?: HistoryArgs): Promise<HistoryMessage<E>[]>;
}

// ---- the client -----------------------------------------------------------------------

const RETRY_STATUSES = new Set([503, 504]);

/**
 * The gateway from a server's side. `E` is the event map: given (`new Realtime<Events>()`,
 * e.g. from `forrealtime codegen ts`) or inferred from `schema`.
 */
export class Realtime<E = AnyEvents> {
  /** Phantom: lets `createRealtime<typeof realtime>()` of @forrealtime/client find the events. */
  declare readonly "~events"?: E;
  readonly #options: RealtimeOptions<E>;
  readonly #emitUrl: string;
  readonly #historyUrl: string;
  /** The gateway's stream endpoint (`/api/realtime`), which `handle()` passes requests to. */
  readonly realtimeUrl: string;
  readonly #fetch: (input: string, init?: RequestInit) => Promise<Response>;

  constructor(options: RealtimeOptions<E>) {
    if (!options || typeof options.url !== "string") {
      throw new TypeError("forrealtime: new Realtime({ url }) needs the gateway's URL");
    }
    this.#options = options;
    const base = options.url.replace(/\/+$/, "");
    this.#emitUrl = options.endpoints?.emit ?? `${base}/api/emit`;
    this.#historyUrl = options.endpoints?.history ?? `${base}/api/history`;
    this.realtimeUrl = options.endpoints?.realtime ?? `${base}/api/realtime`;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("forrealtime: no fetch here; pass `fetch`");
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Emits on `options.channel` (default `default`); resolves to the stored id. */
  async emit<K extends EventName<E>>(
    event: K,
    data: EventData<E, K>,
    options: EmitOptions = {},
  ): Promise<string> {
    this.#check(event, data);
    const body = { channel: options.channel ?? "default", event, data };
    const res = await this.#send(this.#emitUrl, "POST", body, options.idempotencyKey ?? newKey(), options.signal);
    if (typeof res?.id !== "string") {
      throw new RealtimeServerError("forrealtime: emit answered no id", 200, undefined, 1);
    }
    return res.id;
  }

  /**
   * Emits several events in one request; the ids in order. The batch's `Idempotency-Key`
   * header keys each item as `<key>:<index>` at the gateway (unless the item has its own),
   * so a retry after a partial store (503 names the item that failed) or a lost answer
   * (504) stores each item once.
   */
  async batch(items: readonly BatchItem<E>[], options: Omit<EmitOptions, "channel"> = {}): Promise<string[]> {
    if (items.length === 0) return [];
    const body = items.map((it) => {
      this.#check(it.event, it.data);
      const item: Record<string, unknown> = { channel: it.channel ?? "default", event: it.event, data: it.data };
      if (it.idempotencyKey !== undefined) item.idempotency_key = it.idempotencyKey;
      return item;
    });
    const res = await this.#send(this.#emitUrl, "POST", body, options.idempotencyKey ?? newKey(), options.signal);
    if (!Array.isArray(res?.ids)) {
      throw new RealtimeServerError("forrealtime: batch emit answered no ids", 200, undefined, 1);
    }
    return res.ids;
  }

  /** Stored events of `channel` (default `default`), oldest first. */
  async history(args: HistoryArgs & { channel?: string } = {}): Promise<HistoryMessage<E>[]> {
    const q = new URLSearchParams({ channel: args.channel ?? "default" });
    if (args.limit !== undefined) q.set("limit", String(args.limit));
    if (args.after !== undefined) q.set("after", args.after);
    if (args.start !== undefined) q.set("start", String(args.start));
    if (args.end !== undefined) q.set("end", String(args.end));
    if (args.last !== undefined) q.set("last", String(args.last));
    const url = `${this.#historyUrl}${this.#historyUrl.includes("?") ? "&" : "?"}${q}`;
    const res = await this.#send(url, "GET", undefined, undefined, args.signal);
    if (!Array.isArray(res)) {
      throw new RealtimeServerError("forrealtime: history answered no array", 200, undefined, 1);
    }
    return res;
  }

  /** The fetch used for every request (the one given in the options, or the global one). */
  get fetch() {
    return this.#fetch;
  }

  /** `emit`, `batch` and `history` bound to one channel. */
  channel(name: string): RealtimeChannel<E> {
    return {
      name,
      emit: (event, data, options = {}) => this.emit(event, data, { ...options, channel: name }),
      batch: (items, options) =>
        this.batch(
          items.map((it) => ({ ...it, channel: name })) as unknown as BatchItem<E>[],
          options,
        ),
      history: (args = {}) => this.history({ ...args, channel: name }),
    };
  }

  /** Checks a payload against the schema's Zod type, when there is a schema. */
  #check(event: string, data: unknown) {
    const schema = this.#options.schema as Record<string, any> | undefined;
    if (!schema) return;
    const dot = event.indexOf(".");
    const leaf =
      schema[event] ?? (dot > 0 ? schema[event.slice(0, dot)]?.[event.slice(dot + 1)] : undefined);
    if (!leaf) throw new TypeError(`forrealtime: "${event}" is not an event of the schema`);
    if (typeof leaf.parse === "function") leaf.parse(data);
  }

  async #send(url: string, method: "GET" | "POST", body: unknown, key: string | undefined, signal?: AbortSignal) {
    const retry = this.#options.retry ?? {};
    const attempts = Math.max(1, retry.attempts ?? 5);
    const initialMs = retry.initialMs ?? 100;
    const maxMs = retry.maxMs ?? 5000;
    const headers: Record<string, string> = { accept: "application/json", ...this.#options.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (key !== undefined) headers["idempotency-key"] = key;
    const token =
      typeof this.#options.token === "function" ? await this.#options.token() : this.#options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);

    for (let attempt = 1; ; attempt++) {
      let res: Response | null = null;
      let failure: unknown = null;
      try {
        res = await this.#fetch(url, { method, headers, body: payload, signal });
      } catch (error) {
        if (signal?.aborted) throw error;
        failure = error;
      }
      const retriable = res === null || RETRY_STATUSES.has(res.status);
      if (!retriable || attempt >= attempts) {
        if (res === null) {
          throw new RealtimeServerError(
            `forrealtime: ${method} ${url} failed after ${attempt} tries: ${String(failure)}`,
            0,
            undefined,
            attempt,
          );
        }
        const text = await res.text();
        if (!res.ok) {
          const reason = errorText(text);
          throw new RealtimeServerError(
            `forrealtime: ${method} ${url} answered ${res.status}${reason ? `: ${reason}` : ""}`,
            res.status,
            reason,
            attempt,
          );
        }
        try {
          return JSON.parse(text);
        } catch {
          throw new RealtimeServerError(`forrealtime: ${url} answered no JSON`, res.status, undefined, attempt);
        }
      }
      // Retry: after backoff with jitter, or the server's Retry-After, whichever is longer.
      let delay = Math.min(maxMs, initialMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      const after = Number(res?.headers.get("retry-after"));
      if (Number.isFinite(after) && after > 0) delay = Math.max(delay, Math.min(maxMs, after * 1000));
      await res?.body?.cancel().catch(() => {});
      await sleep(delay, signal);
    }
  }
}

// ---- handle(): the stream on the app's own origin -------------------------------------

/** What a `handle()` middleware sees: the request and the channels it asks for. */
export interface MiddlewareContext {
  request: Request;
  channels: string[];
}

export interface HandleOptions {
  realtime: Realtime<any>;
  /**
   * Runs before the stream is opened; a Response it returns is sent instead (401, 403, ...),
   * anything else lets the request through. The original package's middleware, unchanged.
   */
  middleware?: (ctx: MiddlewareContext) => Response | void | undefined | Promise<Response | void | undefined>;
  /** Request headers passed on to the gateway. Default cookie, authorization, last-event-id. */
  forwardHeaders?: readonly string[];
}

/**
 * A `(Request) => Response` handler for `GET /api/realtime` on the app's own origin, as the
 * original's `handle({ realtime, middleware })`: it runs the middleware, then passes the
 * request to the gateway and streams the answer back as it arrives. Costs one upstream
 * connection per stream in the app server (the gateway does the fan-out either way);
 * pointing the browser at the gateway directly avoids that hop.
 *
 *     export const GET = handle({ realtime, middleware: auth });   // Next.js route handler
 */
export function handle(options: HandleOptions): (request: Request) => Promise<Response> {
  const forward = options.forwardHeaders ?? ["cookie", "authorization", "last-event-id"];
  return async (request) => {
    const url = new URL(request.url);
    const named = url.searchParams.getAll("channel");
    const channels = named.length ? [...new Set(named)] : ["default"];
    if (options.middleware) {
      const answer = await options.middleware({ request, channels });
      if (answer instanceof Response) return answer;
    }
    const headers = new Headers({ accept: "text/event-stream" });
    for (const h of forward) {
      const v = request.headers.get(h);
      if (v) headers.set(h, v);
    }
    const target = options.realtime.realtimeUrl;
    let upstream: Response;
    try {
      upstream = await options.realtime.fetch(
        `${target}${target.includes("?") ? "&" : "?"}${url.searchParams}`,
        { headers, signal: request.signal },
      );
    } catch (error) {
      return Response.json({ error: `the realtime gateway cannot be reached: ${String(error)}` }, { status: 502 });
    }
    const out = new Headers({
      "content-type": upstream.headers.get("content-type") ?? "text/event-stream",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    return new Response(upstream.body, { status: upstream.status, headers: out });
  };
}

function errorText(text: string): string | undefined {
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return body.error;
  } catch {
    // not JSON
  }
  const t = text.trim();
  return t ? t.slice(0, 200) : undefined;
}

/** A random key of visible ASCII (the gateway accepts up to 255 bytes of it). */
function newKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
