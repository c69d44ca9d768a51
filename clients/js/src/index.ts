/**
 * `@forrealtime/client`: the framework-free core. Bindings live in `./react` and
 * `./svelte`; both wrap the same `createRealtimeClient`.
 */

export {
  buildSubscribeUrl,
  createRealtimeClient,
  RealtimeRequestError,
  siblingEndpoint,
  type EventSourceFactory,
  type EventSourceLike,
  type HistoryOptions,
  type RealtimeChannelHandle,
  type RealtimeClient,
  type RealtimeClientOptions,
  type RealtimeError,
  type SubscribeOptions,
} from "./client.js";
export type { TabEnvironment } from "./tabs.js";
export { backoffDelay, defaultBackoff, type BackoffOptions } from "./backoff.js";
export { compareStreamIds, isStreamId, parseStreamId } from "./stream-id.js";
export type {
  AnyEvents,
  ConnectionStatus,
  EventData,
  EventName,
  FlatEvents,
  HistoryLost,
  Payload,
  RealtimeEvent,
  ResolveEvents,
  UseRealtimeOptions,
} from "./types.js";
