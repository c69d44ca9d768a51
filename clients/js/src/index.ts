/**
 * `@forrealtime/client`: the framework-free core. Bindings live in `./react` and
 * `./svelte`; both wrap the same `createRealtimeClient`.
 */

export {
  buildSubscribeUrl,
  createRealtimeClient,
  type EventSourceFactory,
  type EventSourceLike,
  type RealtimeClient,
  type RealtimeClientOptions,
  type RealtimeError,
  type SubscribeOptions,
} from "./client.js";
export { backoffDelay, defaultBackoff, type BackoffOptions } from "./backoff.js";
export { compareStreamIds, isStreamId, parseStreamId } from "./stream-id.js";
export type {
  AnyEvents,
  ConnectionStatus,
  EventData,
  EventName,
  FlatEvents,
  HistoryLost,
  RealtimeEvent,
} from "./types.js";
