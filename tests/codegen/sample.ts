// What an application writes against the types `forrealtime codegen ts` generated (into
// generated/ by run.sh): from the C++ schema of chat_events.cpp and from the Zod schema of
// zod/events.mjs. It must compile, and each `@ts-expect-error` line must be an error (tsc fails
// on an unused one), so that a wrong event name or a wrong field is caught in the browser code.
import {
  createRealtimeClient,
  type EventData,
  type EventName,
  type RealtimeEvent,
} from "@forrealtime/client";
import type { Events } from "./generated/cpp-events";
import type { Events as ZodEvents } from "./generated/zod-events";

// --- from the C++ schema ---
const client = createRealtimeClient<Events>({ url: "/api/realtime" });
client.subscribe({
  channels: ["room:1"],
  events: ["chat.message", "chat.status"],
  onData: (e) => {
    if (e.event === "chat.message") {
      const who: string = e.data.author.name;
      const avatar: string | undefined = e.data.author.avatar_url;
      const mentions: string[] = e.data.mentions;
      console.log(who, avatar, mentions, e.data.reply_to?.length);
      // @ts-expect-error a field the C++ struct does not have
      console.log(e.data.nope);
    } else {
      const p: "online" | "away" | "offline" = e.data.presence;
      // @ts-expect-error not one of the described enum's names
      const q: typeof e.data.presence = "busy";
      console.log(p, q);
    }
  },
});
// @ts-expect-error not an event name of the schema
client.subscribe({ events: ["chat.mesage"], onData: () => {} });

const names: EventName<Events>[] = ["chat.message", "metrics.counter", "metrics.note"];
const counter: EventData<Events, "metrics.counter"> = { value: 1, rate: 0.5 };
// @ts-expect-error text must be a string (std::string in C++)
const wrong: EventData<Events, "chat.message"> = { text: 1, author: { id: "u", name: "n" }, mentions: [] };
// @ts-expect-error author is required (not an std::optional)
const missing: EventData<Events, "chat.message"> = { text: "hi", mentions: [] };
const note: EventData<Events, "metrics.note"> = "a plain string payload";
export type Message = RealtimeEvent<Events, "chat.message">;

// --- from the Zod schema ---
const zclient = createRealtimeClient<ZodEvents>({ url: "/api/realtime" });
zclient.subscribe({
  events: ["notification.alert"],
  onData: (e) => {
    const level: "info" | "warning" | "critical" = e.data.level;
    const tags: string[] = e.data.tags;
    console.log(level, tags);
  },
});
const typing: EventData<ZodEvents, "chat.typing"> = { userId: "u1", typing: true };
// @ts-expect-error typing is a boolean in the Zod schema
const badTyping: EventData<ZodEvents, "chat.typing"> = { userId: "u1", typing: "yes" };
// @ts-expect-error not an event of the Zod schema
const badName: EventName<ZodEvents> = "chat.message2";

export { names, counter, wrong, missing, note, typing, badTyping, badName };
