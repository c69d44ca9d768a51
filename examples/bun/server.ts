// Bun.serve: the page, /api/realtime passed through to the gateway (same origin for the
// browser), and emit/history through @forrealtime/server.
//   FORREALTIME_URL=http://127.0.0.1:8787 PORT=3000 bun examples/bun/server.ts
import { Realtime } from "@forrealtime/server";

type Events = { chat: { message: { user: string; text: string } } };

const gateway = process.env.FORREALTIME_URL ?? "http://127.0.0.1:8787";
const realtime = new Realtime<Events>({ url: gateway, token: process.env.FORREALTIME_EMIT_TOKEN });
const page = new URL("../web/index.html", import.meta.url);
const clientDist = new URL("../node_modules/@forrealtime/client/dist/", import.meta.url);

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 3000),
  idleTimeout: 0, // the stream is long-lived; the gateway's pings keep it busy
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/api/realtime") {
      // The stream, piped through: Bun streams the gateway's body as it arrives.
      const headers = new Headers();
      for (const h of ["cookie", "authorization", "last-event-id"]) {
        const v = req.headers.get(h);
        if (v) headers.set(h, v);
      }
      return fetch(`${gateway}/api/realtime${url.search}`, { headers, signal: req.signal });
    }
    if (url.pathname === "/api/send" && req.method === "POST") {
      const { user, text } = (await req.json()) as { user: string; text: string };
      const id = await realtime.channel("chat").emit("chat.message", { user, text });
      return Response.json({ id });
    }
    if (url.pathname === "/api/messages") {
      return Response.json(await realtime.channel("chat").history({ last: 20 }));
    }
    if (url.pathname.startsWith("/client/") && /^[\w.-]+\.js$/.test(url.pathname.slice(8))) {
      return new Response(Bun.file(new URL(url.pathname.slice(8), clientDist)), {
        headers: { "content-type": "text/javascript" },
      });
    }
    if (url.pathname === "/") return new Response(Bun.file(page), { headers: { "content-type": "text/html" } });
    return new Response("not found", { status: 404 });
  },
});
console.log(`listening on ${server.url}`);
