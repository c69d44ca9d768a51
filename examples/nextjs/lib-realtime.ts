// The server's handle on the gateway (server code only: route handlers, server components).
import { Realtime } from "@forrealtime/server";

export type Events = { chat: { message: { user: string; text: string } } };
export type Message = { id: string; channel: string; event: "chat.message"; data: Events["chat"]["message"] };

export const gateway = process.env.FORREALTIME_URL ?? "http://127.0.0.1:8787";
export const realtime = new Realtime<Events>({ url: gateway, token: process.env.FORREALTIME_EMIT_TOKEN });
