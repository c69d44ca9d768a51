// The baseline for bench/run.sh: the TypeScript forrealtime 0.1.13 on Bun with the ioredis
// adapter, served like the package's Bun.serve example. POST /api/emit is added here (the
// package has no HTTP emit endpoint) with the same body as our gateway's: one event
// {"channel","event","data"} or an array of them.
//
//   PORT=8091 REDIS_URL=redis://127.0.0.1:6390 bun run server.ts
import Redis from "ioredis";
import { Realtime, handle } from "forrealtime";
import { createIORedisAdapter } from "forrealtime/adapters/ioredis";

const port = Number(process.env.PORT ?? 8091);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const historyMaxLength = Number(process.env.HISTORY_MAX_LENGTH ?? 1000);

const realtime = new Realtime({
  redis: createIORedisAdapter(new Redis(redisUrl)),
  history: { maxLength: historyMaxLength },
  // The default (300 s) ends every stream with a `reconnect` after 5 minutes; a benchmark
  // server lives longer than that, and our load generator does not reconnect.
  maxDurationSecs: 3600,
});

const realtimeHandler = handle({ realtime });

type EmitBody = { channel?: string; event: string; data: unknown };

Bun.serve({
  hostname: "127.0.0.1",
  port,
  // Bun's default idle timeout (10 s) would close quiet event streams.
  idleTimeout: 0,
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/api/realtime") return realtimeHandler(request);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname === "/api/emit" && request.method === "POST") {
      const body = (await request.json()) as EmitBody | EmitBody[];
      const events = Array.isArray(body) ? body : [body];
      for (const e of events) await realtime.channel(e.channel ?? "default").emit(e.event, e.data);
      return Response.json({ ok: true, count: events.length });
    }
    return new Response("not found", { status: 404 });
  },
});
console.log(`forrealtime 0.1.13 baseline on http://127.0.0.1:${port}`);
