/**
 * Event typing. An application describes its events either flat, as a map from
 * `"namespace.name"` to payload type, or nested two levels, namespace -> name -> payload
 * (the form `forrealtime codegen` writes). Both are flattened here to one map, from
 * which event names and a discriminated union of received events are derived, so that
 * `if (e.event === "chat.message") e.data.text` typechecks.
 */

/** Any event map; the untyped default, under which every name is a string and data unknown. */
export type AnyEvents = Record<string, unknown>;

/**
 * What a type parameter names: an event map, or something that carries one in the phantom
 * property `"~events"` (a `Realtime` of `@forrealtime/server`, so that
 * `createRealtime<typeof realtime>()` works as with the original package).
 */
export type ResolveEvents<T> = string extends keyof T
  ? T
  : T extends { readonly "~events"?: infer S }
    ? NonNullable<S>
    : T;

/**
 * A payload type as written in the map: a plain type, or a Zod schema (v4 `_zod.output`,
 * v3 `_output`), so the original's `{ chat: { message: z.object(...) } }` works unchanged.
 */
export type Payload<T> = T extends { readonly _zod: { readonly output: infer O } }
  ? O
  : T extends { readonly _output: infer O; readonly _def: unknown }
    ? O
    : T;

type IsWide<E> = string extends keyof E ? true : false;

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

type Flat<E> =
  IsWide<E> extends true
    ? Record<string, unknown>
    : { [K in FlatKeys<E>]: Payload<PayloadOf<E, K>> };

/** The flat form of an event map: `"namespace.name"` -> payload. */
export type FlatEvents<E> = Flat<ResolveEvents<E>>;

/** The names of the events of a map, `"namespace.name"`. */
export type EventName<E> = keyof FlatEvents<E> & string;

/** The payload of one event. */
export type EventData<E, K extends EventName<E>> = FlatEvents<E>[K];

/** One received event; a union over `K` discriminated by `event`. */
export type RealtimeEvent<E = AnyEvents, K extends EventName<E> = EventName<E>> = {
  [N in K]: { id: string; channel: string; event: N; data: FlatEvents<E>[N] };
}[K];

/** What `onHistoryLost` receives: entries of `channel` after `lastAck` and before `oldest` are gone. */
export interface HistoryLost {
  channel: string;
  lastAck: string;
  oldest: string;
}

/**
 * The connection's state, with the original package's values and moments (README:
 * "Status"): `disconnected` before the first connect, with nothing subscribed, and while a
 * retry waits; `connecting` while an attempt is under way; `connected` once open; `error`
 * after `maxReconnectAttempts` failures in a row, the server's `error` event, or a refused
 * credential (401/403). Unlike the original, retries go on behind `error` (except after a
 * refusal) and the next success shows `connected` again.
 */
export type ConnectionStatus = "connecting" | "connected" | "disconnected" | "error";

/** Why the connection is not (yet) open; `null` once it is. Discriminated by `kind`. */
export type RealtimeError =
  /** The stream could not be opened or broke off; retried with backoff. */
  | { kind: "connection"; message: string; status?: number }
  /** The server sent `{"type":"error"}`: it cannot go on (a store failure); retried. */
  | { kind: "server"; message: string }
  /** 401: no or a bad credential. Not retried until `getToken` gives another (or `reconnect()`). */
  | { kind: "unauthorized"; message: string; status: 401 }
  /** 403: the credential does not cover these channels. Not retried as 401. */
  | { kind: "forbidden"; message: string; status: 403 }
  /** `getToken` threw or rejected; retried with backoff. */
  | { kind: "token"; message: string; cause?: unknown };

/** What `useRealtime` takes, in the React and the Svelte binding alike. */
export interface UseRealtimeOptions<E = AnyEvents, K extends EventName<E> = EventName<E>> {
  /**
   * Default `["default"]`. Entries that are `undefined`, `null` or `""` are dropped (as in
   * the original, so `[user?.id]` waits for the id); if none is left, nothing is subscribed.
   */
  channels?: readonly (string | null | undefined)[];
  /** Only these event names; all when absent or empty (as in the original). */
  events?: readonly K[];
  onData?: (event: RealtimeEvent<E, K>) => void;
  onHistoryLost?: (info: HistoryLost) => void;
  /** Subscribe only while true. Default true. */
  enabled?: boolean;
}
