"use client";

/**
 * React binding: a provider that owns one client per endpoint, and hooks that subscribe
 * for the lifetime of a component. Status is read with useSyncExternalStore, so every
 * component sees the same value in the same render. Callbacks are kept in refs: a new
 * `onData` closure on each render does not re-subscribe; a change of channels, events
 * or `enabled` does (and the client's debounce turns that into at most one re-open).
 */

import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from "react";
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

const RealtimeContext = createContext<RealtimeClient<any> | null>(null);

/**
 * The original package's props (`api`, `maxReconnectAttempts`, `eventSourceFactory`) and
 * every other client option at the top level, or grouped in `options`.
 */
export interface RealtimeProviderProps extends Omit<RealtimeClientOptions, "api" | "url"> {
  /** The endpoints: `url` (default `/api/realtime`), `withCredentials`, `historyUrl`, `emitUrl`. */
  api?: RealtimeClientOptions["api"];
  /** Further client options (backoff, ping timeout, an EventSource factory for tests). */
  options?: Omit<RealtimeClientOptions, "api" | "url" | "withCredentials">;
  /** Use this client instead of making one; the provider then never destroys it. */
  client?: RealtimeClient<any>;
  children?: ReactNode;
}

export function RealtimeProvider(props: RealtimeProviderProps) {
  const { api, options, client, children, ...rest } = props;
  const url = api?.url;
  const withCredentials = api?.withCredentials ?? rest.withCredentials;
  const historyUrl = api?.historyUrl;
  const emitUrl = api?.emitUrl;
  // Options other than the endpoint are read once, when the client is made.
  const optionsRef = useRef({ ...rest, ...options });
  const owned = useMemo(
    () =>
      client
        ? null
        : createRealtimeClient({
            ...optionsRef.current,
            api: { url, withCredentials, historyUrl, emitUrl },
          }),
    [client, url, withCredentials, historyUrl, emitUrl],
  );
  // Nothing to destroy on unmount: the hooks below unsubscribe as they unmount, and a
  // client with no subscriber closes its connection and stops its timers by itself.
  // (Destroying in an effect cleanup would break StrictMode's double effects.)
  return createElement(RealtimeContext.Provider, { value: client ?? owned }, children);
}

/** The provider's client. Throws when there is no RealtimeProvider above. */
export function useRealtimeClient<E = AnyEvents>(): RealtimeClient<E> {
  const client = useContext(RealtimeContext);
  if (!client) {
    throw new Error("forrealtime: useRealtime needs a <RealtimeProvider> above this component");
  }
  return client as RealtimeClient<E>;
}

/** The original package's name for `useRealtimeClient`. */
export const useRealtimeContext = useRealtimeClient;

/** What `useRealtime` returns: the status, and why it is not `connected` (typed by `kind`). */
export interface RealtimeState {
  status: ConnectionStatus;
  error: RealtimeError | null;
}

/** Subscribes while mounted (and enabled); returns the connection status and error. */
export function useRealtime<E = AnyEvents, K extends EventName<E> = EventName<E>>(
  options: UseRealtimeOptions<E, K>,
): RealtimeState {
  const client = useRealtimeClient<E>();
  const onData = useRef(options.onData);
  const onHistoryLost = useRef(options.onHistoryLost);
  useIsomorphicLayoutEffect(() => {
    onData.current = options.onData;
    onHistoryLost.current = options.onHistoryLost;
  });
  const enabled = options.enabled ?? true;
  const channelsKey = JSON.stringify(options.channels ?? null);
  const eventsKey = JSON.stringify(options.events ?? null);
  useEffect(() => {
    if (!enabled) return;
    const channels = JSON.parse(channelsKey) as string[] | null;
    const events = JSON.parse(eventsKey) as K[] | null;
    return client.subscribe<K>({
      channels: channels ?? undefined,
      events: events ?? undefined,
      onData: (e) => onData.current?.(e),
      onHistoryLost: (info) => onHistoryLost.current?.(info),
    });
  }, [client, enabled, channelsKey, eventsKey]);
  const status = useSyncExternalStore(client.subscribeStatus, client.getStatus, client.getStatus);
  const error = useSyncExternalStore(client.subscribeStatus, client.getError, client.getError);
  return { status, error };
}

/** The connection status of the provider's client. */
export function useRealtimeStatus(): ConnectionStatus {
  const client = useRealtimeClient();
  return useSyncExternalStore(client.subscribeStatus, client.getStatus, client.getStatus);
}

/** Why the provider's client is not connected, or `null`. */
export function useRealtimeError(): RealtimeError | null {
  const client = useRealtimeClient();
  return useSyncExternalStore(client.subscribeStatus, client.getError, client.getError);
}

/**
 * Hooks typed for one event map, flat (`{"chat.message": {...}}`) or nested
 * (`{chat: {message: {...}}}`):
 *
 *     export const { useRealtime } = createRealtime<Events>();
 */
export function createRealtime<E = AnyEvents>() {
  return {
    useRealtime: <K extends EventName<E> = EventName<E>>(options: UseRealtimeOptions<E, K>) =>
      useRealtime<E, K>(options),
    useRealtimeClient: () => useRealtimeClient<E>(),
    useRealtimeContext: () => useRealtimeClient<E>(),
    useRealtimeStatus,
    useRealtimeError,
    RealtimeProvider,
  };
}

const useIsomorphicLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

export { createRealtimeClient } from "./client.js";
export type { RealtimeClient, RealtimeClientOptions } from "./client.js";
export type { ConnectionStatus, HistoryLost, RealtimeError, RealtimeEvent } from "./types.js";
