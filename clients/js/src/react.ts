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
  RealtimeEvent,
  UseRealtimeOptions,
} from "./types.js";
export type { UseRealtimeOptions } from "./types.js";

const RealtimeContext = createContext<RealtimeClient<any> | null>(null);

export interface RealtimeProviderProps {
  /** The endpoint: `url` (default `/api/realtime`) and `withCredentials`. */
  api?: { url?: string; withCredentials?: boolean };
  /** Further client options (backoff, ping timeout, an EventSource factory for tests). */
  options?: Omit<RealtimeClientOptions, "url" | "withCredentials">;
  /** Use this client instead of making one; the provider then never destroys it. */
  client?: RealtimeClient<any>;
  children?: ReactNode;
}

export function RealtimeProvider({ api, options, client, children }: RealtimeProviderProps) {
  const url = api?.url;
  const withCredentials = api?.withCredentials;
  // Options other than the endpoint are read once, when the client is made.
  const optionsRef = useRef(options);
  const owned = useMemo(
    () => (client ? null : createRealtimeClient({ ...optionsRef.current, url, withCredentials })),
    [client, url, withCredentials],
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

/** Subscribes while mounted (and enabled); returns the connection status. */
export function useRealtime<E = AnyEvents, K extends EventName<E> = EventName<E>>(
  options: UseRealtimeOptions<E, K>,
): { status: ConnectionStatus } {
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
  return { status };
}

/** The connection status of the provider's client. */
export function useRealtimeStatus(): ConnectionStatus {
  const client = useRealtimeClient();
  return useSyncExternalStore(client.subscribeStatus, client.getStatus, client.getStatus);
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
    useRealtimeStatus,
    RealtimeProvider,
  };
}

const useIsomorphicLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

export type { ConnectionStatus, HistoryLost, RealtimeEvent } from "./types.js";
