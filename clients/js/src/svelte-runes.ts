/**
 * Svelte 5 (runes) form of the binding: `useRealtime` returns an object whose `status`
 * and `error` are plain reactive properties (read them in markup or `$derived`, no `$`
 * store prefix), and options may be a getter, re-read whenever what it reads changes:
 *
 *     const rt = useRealtime(() => ({ channels: [room], onData }));
 *     <p>{rt.status}</p> {#if rt.error?.kind === "unauthorized"}...{/if}
 *
 * `provideRealtime` and `getRealtimeContext` are the store binding's, re-exported.
 * Needs Svelte >= 5.7 (`createSubscriber`); Svelte 4 users use `@forrealtime/client/svelte`.
 */

import { createSubscriber } from "svelte/reactivity";
import { toStore, type Readable } from "svelte/store";
import type { RealtimeClient, RealtimeClientOptions } from "./client.js";
import {
  getRealtimeContext,
  provideRealtime,
  useRealtime as useRealtimeStores,
} from "./svelte.js";
import type {
  AnyEvents,
  ConnectionStatus,
  EventName,
  RealtimeError,
  UseRealtimeOptions,
} from "./types.js";

export { getRealtimeContext, provideRealtime } from "./svelte.js";

export interface RealtimeRunes {
  readonly status: ConnectionStatus;
  readonly error: RealtimeError | null;
}

type Options<E, K extends EventName<E>> =
  | UseRealtimeOptions<E, K>
  | (() => UseRealtimeOptions<E, K>)
  | Readable<UseRealtimeOptions<E, K>>;

/** Subscribes for the lifetime of the calling component; see the module comment. */
export function useRealtime<E = AnyEvents, K extends EventName<E> = EventName<E>>(
  options: Options<E, K>,
  client: RealtimeClient<E> = getRealtimeContext<E>(),
): RealtimeRunes {
  const opts = typeof options === "function" ? toStore(options) : options;
  useRealtimeStores<E, K>(opts, client);
  return realtimeState(client);
}

/** A client's status and error as reactive properties. */
export function realtimeState(client: RealtimeClient<any>): RealtimeRunes {
  const track = createSubscriber((update) => client.subscribeStatus(() => update()));
  return {
    get status() {
      track();
      return client.getStatus();
    },
    get error() {
      track();
      return client.getError();
    },
  };
}

/** Functions typed for one event map (flat or nested, as in `@forrealtime/client`). */
export function createRealtime<E = AnyEvents>() {
  return {
    provideRealtime: (options?: RealtimeClientOptions) => provideRealtime<E>(options),
    getRealtimeContext: () => getRealtimeContext<E>(),
    useRealtime: <K extends EventName<E> = EventName<E>>(
      options: Options<E, K>,
      client?: RealtimeClient<E>,
    ) => useRealtime<E, K>(options, client ?? getRealtimeContext<E>()),
  };
}
