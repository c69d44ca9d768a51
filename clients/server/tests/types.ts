// Type checks of the SDK (tsc only, never run): typed emit/history from a codegen-style
// map and from a Zod schema, and the misuses that must not compile.
import { z } from "zod";
import { Realtime, type HistoryMessage } from "../src/index.js";

// What `forrealtime codegen ts` writes.
type Events = {
  chat: { message: { text: string; user: string; reply_to?: string } };
  notification: { alert: string };
};

const rt = new Realtime<Events>({ url: "http://127.0.0.1:8787", token: "secret" });
export async function codegenTypes() {
  const id: string = await rt.emit("chat.message", { text: "hi", user: "ada" }, { channel: "room:1" });
  await rt.channel("room:1").emit("notification.alert", "deploy done");
  const ids: string[] = await rt.batch([
    { channel: "a", event: "chat.message", data: { text: "1", user: "x" } },
    { event: "notification.alert", data: "2" },
  ]);
  const past = await rt.channel("room:1").history({ last: 20 });
  for (const m of past) {
    if (m.event === "chat.message") m.data.text.toUpperCase();
    else m.data.toUpperCase();
  }
  // @ts-expect-error not an event
  await rt.emit("chat.nope", {});
  // @ts-expect-error wrong payload
  await rt.emit("chat.message", { text: 1, user: "ada" });
  // @ts-expect-error missing field
  await rt.channel("x").emit("chat.message", { text: "hi" });
  // @ts-expect-error batch item with a payload of another event
  await rt.batch([{ event: "notification.alert", data: { text: "1", user: "x" } }]);
  // @ts-expect-error history has no such option
  await rt.history({ newest: 3 });
  return [id, ids];
}

// Inferred from a Zod schema, as the original package's `new Realtime({ schema })`.
const schema = {
  notification: { alert: z.string() },
  chat: { message: z.object({ text: z.string(), user: z.string() }) },
};
const zrt = new Realtime({ url: "http://127.0.0.1:8787", schema });
export async function zodTypes() {
  await zrt.emit("notification.alert", "hello");
  await zrt.channel("r").emit("chat.message", { text: "hi", user: "ada" });
  // @ts-expect-error a number is not the schema's string
  await zrt.emit("notification.alert", 3);
  // @ts-expect-error not in the schema
  await zrt.emit("chat.typing", {});
  const m: HistoryMessage<typeof schema>[] = await zrt.history();
  return m;
}

// @ts-expect-error the gateway URL is required
new Realtime<Events>({});
