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
