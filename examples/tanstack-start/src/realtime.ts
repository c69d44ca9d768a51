// The server's handle on the gateway. Only server code calls it (server functions and
// server routes); the gateway's address and emit token come from the server's environment.
import { Realtime } from "@forrealtime/server";

export type Events = { chat: { message: { user: string; text: string } } };
export type Message = { id: string; channel: string; event: "chat.message"; data: Events["chat"]["message"] };

let realtime: Realtime<Events> | undefined;
export function gateway(): Realtime<Events> {
  realtime ??= new Realtime<Events>({
    url: process.env.FORREALTIME_URL ?? "http://127.0.0.1:8787",
    token: process.env.FORREALTIME_EMIT_TOKEN,
  });
  return realtime;
}
