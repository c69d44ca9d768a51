// Hono on Node (@hono/node-server): the page, /api/realtime passed through to the gateway,
// and emit/history through @forrealtime/server. The same app runs on Bun, Deno or an edge
// runtime with that runtime's adapter instead of @hono/node-server.
//   FORREALTIME_URL=http://127.0.0.1:8787 PORT=3000 node examples/hono/server.mjs
import { readFile } from "node:fs/promises";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { Realtime } from "@forrealtime/server";

const gateway = process.env.FORREALTIME_URL ?? "http://127.0.0.1:8787";
/** @type {Realtime<{ chat: { message: { user: string; text: string } } }>} */
const realtime = new Realtime({ url: gateway, token: process.env.FORREALTIME_EMIT_TOKEN });
const page = new URL("../web/index.html", import.meta.url);
const clientDist = new URL("../node_modules/@forrealtime/client/dist/", import.meta.url);

const app = new Hono();
app.get("/", async (c) => c.html(await readFile(page, "utf8")));
app.get("/client/:file{[\\w.-]+\\.js}", async (c) => {
  const body = await readFile(new URL(c.req.param("file"), clientDist), "utf8").catch(() => null);
  return body === null ? c.notFound() : c.body(body, 200, { "content-type": "text/javascript" });
});
app.get("/api/realtime", (c) => {
  const headers = new Headers();
  for (const h of ["cookie", "authorization", "last-event-id"]) {
    const v = c.req.header(h);
    if (v) headers.set(h, v);
  }
  const search = new URL(c.req.url).search;
  return fetch(`${gateway}/api/realtime${search}`, { headers, signal: c.req.raw.signal });
});
app.post("/api/send", async (c) => {
  const { user, text } = await c.req.json();
  return c.json({ id: await realtime.channel("chat").emit("chat.message", { user, text }) });
});
app.get("/api/messages", async (c) => c.json(await realtime.channel("chat").history({ last: 20 })));

serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 3000) }, (info) =>
  console.log(`listening on http://127.0.0.1:${info.port}`),
);
