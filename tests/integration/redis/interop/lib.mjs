// Helpers of the interop tests: the C++ gateway as a child process, a TypeScript forrealtime
// 0.1.13 server (its `handle()` behind node:http), SSE collectors, and polling.
// With REDIS_CLUSTER_NODES (host:port,... set by run_cluster.sh) every ioredis client is an
// ioredis Cluster over those seeds, and REDIS_URL is the gateway's redis-cluster:// URL.
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import Redis from "ioredis";
import { EventSource } from "eventsource";
import * as z from "zod/v4";
import { Realtime, handle } from "forrealtime";
import { createIORedisAdapter } from "forrealtime/adapters/ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const FORREALTIME_BIN = process.env.FORREALTIME_BIN;
export const PREFIX = process.env.INTEROP_KEY_PREFIX ?? "interop:";
export const CLUSTER_NODES = (process.env.REDIS_CLUSTER_NODES ?? "")
  .split(",").filter(Boolean).map((n) => {
    const i = n.lastIndexOf(":");
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });

/** A new ioredis client: a Cluster client (cluster mode) on a cluster, else a plain one. */
export function newRedis() {
  return CLUSTER_NODES.length > 0 ? new Redis.Cluster(CLUSTER_NODES) : new Redis(REDIS_URL);
}

export const schema = {
  chat: { message: z.object({ text: z.string(), from: z.string() }) },
};

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(predicate, what, ms = 8000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(20);
  }
  if (await predicate()) return;
  throw new Error(`timed out waiting for ${what}`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `forrealtime serve --redis` and waits until it is healthy (its store connected). */
export async function startGateway({ port = 0 } = {}) {
  if (!FORREALTIME_BIN) throw new Error("FORREALTIME_BIN is not set");
  const args = ["serve", "--host", "127.0.0.1", "--port", String(port), "--redis", REDIS_URL,
    "--key-prefix", PREFIX, "--log-level", "warn"];
  const proc = spawn(FORREALTIME_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stderr.on("data", (d) => { err += d; });
  const listening = new Promise((resolve, reject) => {
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/[^:\s]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", (code) => reject(new Error(`gateway exited (${code}): ${err}`)));
  });
  const actualPort = await Promise.race([
    listening,
    sleep(10000).then(() => { throw new Error(`gateway did not start: ${err}`); }),
  ]);
  const url = `http://127.0.0.1:${actualPort}`;
  await waitFor(async () => {
    try {
      return (await fetch(`${url}/healthz`)).ok;
    } catch {
      return false;
    }
  }, "the gateway to be healthy");
  return {
    url,
    port: actualPort,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill(signal);
      await Promise.race([exited, sleep(5000).then(() => proc.kill("SIGKILL"))]);
      await exited;
    },
  };
}

/** A TypeScript forrealtime server on the same Redis: `realtime` to emit and read history, and
 *  its SSE handler at `${url}/api/realtime`. */
export async function startTsServer() {
  // The package's ioredis adapter as it is: it takes an ioredis Cluster unchanged.
  const client = newRedis();
  const reader = newRedis();
  const realtime = new Realtime({
    schema,
    redis: createIORedisAdapter(client, { prefix: PREFIX, reader }),
    history: { maxLength: 1000 },
  });
  const handler = handle({ realtime });
  const server = http.createServer(async (req, res) => {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const response = await handler(new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers,
      signal: abort.signal,
    }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return res.end();
    const body = response.body.getReader();
    abort.signal.addEventListener("abort", () => body.cancel().catch(() => {}));
    try {
      for (;;) {
        const { done, value } = await body.read();
        if (done) break;
        res.write(value);
      }
    } catch {
      // the client left
    }
    res.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    realtime,
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      client.disconnect();
      reader.disconnect();
    },
  };
}

/** Subscribes with a plain EventSource and records every message. */
export function subscribe(baseUrl, channels, lastAcks = {}) {
  const params = new URLSearchParams();
  for (const c of channels) params.append("channel", c);
  for (const [c, id] of Object.entries(lastAcks)) params.set(`last_ack_${c}`, id);
  const es = new EventSource(`${baseUrl}/api/realtime?${params}`);
  const messages = [];
  es.onmessage = (e) => messages.push(JSON.parse(e.data));
  return {
    messages,
    events: () => messages.filter((m) => m.id !== undefined),
    connected: () => channels.every((c) =>
      messages.some((m) => m.type === "connected" && m.channel === c)),
    close: () => es.close(),
  };
}

export async function emitViaGateway(gatewayUrl, channel, event, data) {
  const res = await fetch(`${gatewayUrl}/api/emit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, event, data }),
  });
  if (!res.ok) throw new Error(`emit: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

export function redisClient() {
  return newRedis();
}
