/**
 * Event typing. An application describes its events either flat, as a map from
 * `"namespace.name"` to payload type, or nested two levels, namespace -> name -> payload
 * (the form `forrealtime codegen` writes). Both are flattened here to one map, from
 * which event names and a discriminated union of received events are derived, so that
 * `if (e.event === "chat.message") e.data.text` typechecks.
 */

/** Any event map; the untyped default, under which every name is a string and data unknown. */
export type AnyEvents = Record<string, unknown>;

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

/** The flat form of an event map: `"namespace.name"` -> payload. */
export type FlatEvents<E> =
  IsWide<E> extends true ? Record<string, unknown> : { [K in FlatKeys<E>]: PayloadOf<E, K> };

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

/** The connection's state. `error`: the last attempt failed and a retry is scheduled. */
export type ConnectionStatus = "connecting" | "connected" | "disconnected" | "error";

/** What `useRealtime` takes, in the React and the Svelte binding alike. */
export interface UseRealtimeOptions<E = AnyEvents, K extends EventName<E> = EventName<E>> {
  /** Default `["default"]`. */
  channels?: readonly string[];
  /** Only these event names; all when absent. */
  events?: readonly K[];
  onData?: (event: RealtimeEvent<E, K>) => void;
  onHistoryLost?: (info: HistoryLost) => void;
  /** Subscribe only while true. Default true. */
  enabled?: boolean;
}
