/**
 * Svelte binding (Svelte 4 and 5: only `svelte/store` and the context/lifecycle
 * functions are used). `provideRealtime` puts a client in the component's context and
 * destroys it with the component; `useRealtime`, called while a child component is
 * initialised, subscribes until that component is destroyed and returns the status as a
 * readable store. Given a store of options, each new value replaces the subscription.
 */

import { getContext, onDestroy, setContext } from "svelte";
import { readable, type Readable } from "svelte/store";
import {
  createRealtimeClient,
  type RealtimeClient,
  type RealtimeClientOptions,
} from "./client.js";
import type {
  AnyEvents,
  ConnectionStatus,
  EventName,
  HistoryLost,
  RealtimeError,
  RealtimeEvent,
  UseRealtimeOptions,
} from "./types.js";
export type { UseRealtimeOptions } from "./types.js";

const CONTEXT_KEY = Symbol.for("forrealtime.client");

/**
 * Makes a client, puts it in context for the children, destroys it with the component.
 * Takes the original's `{ api: { url, withCredentials } }` or the short `{ url }`.
 */
export function provideRealtime<E = AnyEvents>(
  options: RealtimeClientOptions | { client: RealtimeClient<E> } = {},
): RealtimeClient<E> {
  const given = "client" in options ? options.client : null;
  const client = given ?? createRealtimeClient<E>(options as RealtimeClientOptions);
  setContext(CONTEXT_KEY, client);
  if (!given) onDestroy(() => client.destroy());
  return client;
}

/** The client of the nearest `provideRealtime`. Throws without one. */
export function getRealtimeContext<E = AnyEvents>(): RealtimeClient<E> {
  const client = getContext<RealtimeClient<E> | undefined>(CONTEXT_KEY);
  if (!client) {
    throw new Error(
      "forrealtime: no realtime client in context; call provideRealtime({ api: { url } }) in a parent component",
    );
  }
  return client;
}

/** Status of a client as a readable store. */
export function statusStore(client: RealtimeClient<any>): Readable<ConnectionStatus> {
  return readable(client.getStatus(), (set) => {
    set(client.getStatus());
    return client.subscribeStatus(set);
  });
}

/** Why a client is not connected, as a readable store (`null` when it is). */
export function errorStore(client: RealtimeClient<any>): Readable<RealtimeError | null> {
  return readable(client.getError(), (set) => {
    set(client.getError());
    return client.subscribeStatus(() => set(client.getError()));
  });
}

/**
 * Subscribes for the lifetime of the calling component. `options` may be a plain object
 * or a store of options; a new value unsubscribes and subscribes again. Pass `client` to
 * use one that is not in context.
 */
export function useRealtime<E = AnyEvents, K extends EventName<E> = EventName<E>>(
  options: UseRealtimeOptions<E, K> | Readable<UseRealtimeOptions<E, K>>,
  client: RealtimeClient<E> = getRealtimeContext<E>(),
): { status: Readable<ConnectionStatus>; error: Readable<RealtimeError | null> } {
  let unsubscribe: (() => void) | null = null;
  const apply = (opts: UseRealtimeOptions<E, K>) => {
    unsubscribe?.();
    unsubscribe = null;
    if (opts.enabled === false) return;
    unsubscribe = client.subscribe<K>({
      channels: opts.channels,
      events: opts.events,
      onData: (e) => opts.onData?.(e),
      onHistoryLost: (info) => opts.onHistoryLost?.(info),
    });
  };
  const stopOptions = isStore(options) ? options.subscribe(apply) : (apply(options), null);
  onDestroy(() => {
    stopOptions?.();
    unsubscribe?.();
    unsubscribe = null;
  });
  return { status: statusStore(client), error: errorStore(client) };
}

/** Functions typed for one event map (flat or nested, as in `@forrealtime/client`). */
export function createRealtime<E = AnyEvents>() {
  return {
    provideRealtime: (options?: RealtimeClientOptions) => provideRealtime<E>(options),
    getRealtimeContext: () => getRealtimeContext<E>(),
    useRealtime: <K extends EventName<E> = EventName<E>>(
      options: UseRealtimeOptions<E, K> | Readable<UseRealtimeOptions<E, K>>,
      client?: RealtimeClient<E>,
    ) => useRealtime<E, K>(options, client ?? getRealtimeContext<E>()),
  };
}

function isStore<T>(x: T | Readable<T>): x is Readable<T> {
  return typeof (x as { subscribe?: unknown }).subscribe === "function";
}

export { createRealtimeClient } from "./client.js";
export type { RealtimeClient, RealtimeClientOptions } from "./client.js";
export type { ConnectionStatus, HistoryLost, RealtimeError, RealtimeEvent } from "./types.js";
