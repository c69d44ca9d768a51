// Compiled after `build:lib` against the published entry points (package.json "exports"
// -> dist/*.d.ts), as an application would see them: see tsconfig.consumer.json.
import { createRealtimeClient, type RealtimeEvent } from "@forrealtime/client";
import { createRealtime as createReact } from "@forrealtime/client/react";
import { createRealtime as createSvelte } from "@forrealtime/client/svelte";

// What `forrealtime codegen` writes: namespace -> event -> payload.
export type Events = {
  chat: { message: { user: string; text: string } };
  notification: { alert: { text: string } };
};

const client = createRealtimeClient<Events>({ url: "/api/realtime" });
client.subscribe({
  channels: ["chat"],
  events: ["chat.message", "notification.alert"],
  onData: (e) => {
    if (e.event === "chat.message") console.log(e.data.user, e.data.text);
    else console.log(e.data.text);
  },
});
// @ts-expect-error not an event name
client.subscribe({ events: ["chat.nope"], onData: () => {} });

export const react = createReact<Events>();
export const svelte = createSvelte<Events>();
export type Message = RealtimeEvent<Events, "chat.message">;

// The original package's typing: Zod schemas as leaves (v4 keeps the output type in
// `_zod.output`; a structural stand-in here, so the check needs no zod), and a server
// object that carries its events in the phantom `"~events"` (as @forrealtime/server's).
type ZodLike<T> = { readonly _zod: { readonly output: T } };
type Schema = { notification: { alert: ZodLike<string> }; chat: { message: ZodLike<{ text: string }> } };
export const fromSchema = createReact<Schema>();
export const fromServer = createReact<{ readonly "~events"?: Schema }>();
createRealtimeClient<{ readonly "~events"?: Schema }>().subscribe({
  events: ["notification.alert", "chat.message"],
  onData: (e) => {
    if (e.event === "notification.alert") e.data.toUpperCase();
    else e.data.text.toUpperCase();
  },
});
// @ts-expect-error not an event of the schema
createRealtimeClient<Schema>().subscribe({ events: ["chat.nope"] });
