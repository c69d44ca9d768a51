#!/usr/bin/env node
/**
 * A stand-in for `forrealtime serve`, for developing the browser tests before the C++
 * gateway exists. It speaks PROTOCOL.md over an in-memory store and takes the same flags
 * the tests pass (`serve --host --port --static --max-duration --ping-interval
 * --history-max-length`). It is
 * not the thing under test: the e2e run uses FORREALTIME_BIN, and only a developer points
 * that here by hand.
 */

import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";

const argv = process.argv.slice(2);
if (argv[0] !== "serve") fail("usage: standin-gateway.mjs serve --port P [--host H] [--static DIR]");
const flags = {};
for (let i = 1; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--")) fail(`unexpected argument ${argv[i]}`);
  flags[argv[i].slice(2)] = argv[i + 1];
}
if (flags.redis) fail("the stand-in has no Redis store");
const host = flags.host ?? "127.0.0.1";
const port = Number(flags.port ?? 8080);
const staticDir = flags.static ? resolve(flags.static) : null;
const maxDurationMs = flags["max-duration"] ? Number(flags["max-duration"]) * 1000 : 0;
const pingMs = Number(flags["ping-interval"] ?? 30) * 1000;
const maxLength = Number(flags["history-max-length"] ?? 0);

/** channel -> { entries: [{id, channel, event, data}], lastMs, lastSeq } */
const streams = new Map();
/** channel -> Set<(entry) => void> */
const listeners = new Map();

function stream(channel) {
  let s = streams.get(channel);
  if (!s) streams.set(channel, (s = { entries: [], lastMs: 0, lastSeq: 0, trimmed: null }));
  return s;
}

function append(channel, event, data) {
  const s = stream(channel);
  const now = Date.now();
  if (now > s.lastMs) [s.lastMs, s.lastSeq] = [now, 0];
  else s.lastSeq += 1;
  const entry = { id: `${s.lastMs}-${s.lastSeq}`, channel, event, data };
  s.entries.push(entry);
  if (maxLength && s.entries.length > maxLength) {
    const gone = s.entries.splice(0, s.entries.length - maxLength);
    s.trimmed = gone[gone.length - 1].id; // the newest trimmed id
  }
  for (const fn of listeners.get(channel) ?? []) fn(entry);
  return entry.id;
}

function cmp(a, b) {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am < bm ? -1 : am > bm ? 1 : as < bs ? -1 : as > bs ? 1 : 0;
}

const ID = /^\d+-\d+$/;

function subscribe(req, res, url) {
  const channels = [...new Set(url.searchParams.getAll("channel"))];
  if (channels.length === 0) channels.push("default");
  if (channels.some((c) => c.length === 0)) return json(res, 400, { error: "empty channel" });
  res.writeHead(200, {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "Access-Control-Allow-Origin": "*",
    "X-Accel-Buffering": "no",
  });
  const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
  const cleanups = [];
  for (const channel of channels) {
    const s = stream(channel);
    const live = s.entries.length ? s.entries[s.entries.length - 1].id : "0-0";
    send(live === "0-0" ? { type: "connected", channel } : { type: "connected", channel, cursor: live });
    const ack = url.searchParams.get(`last_ack_${channel}`);
    if (ack && ID.test(ack) && s.entries.length) {
      const oldest = s.entries[0].id;
      // Entries after the ack were trimmed when the oldest kept one is not the first ever
      // written after it; with ids from one clock, "oldest > ack and something was
      // trimmed" is that test here.
      if (s.trimmed && cmp(oldest, ack) > 0 && cmp(s.trimmed, ack) > 0) {
        send({ type: "history_lost", channel, last_ack: ack, oldest });
      }
      for (const e of s.entries) if (cmp(e.id, ack) > 0 && cmp(e.id, live) <= 0) send(e);
    }
    const fn = (e) => send(e);
    if (!listeners.has(channel)) listeners.set(channel, new Set());
    listeners.get(channel).add(fn);
    cleanups.push(() => listeners.get(channel).delete(fn));
  }
  const ping = setInterval(() => send({ type: "ping", timestamp: Date.now() }), pingMs);
  cleanups.push(() => clearInterval(ping));
  if (maxDurationMs) {
    const t = setTimeout(() => {
      send({ type: "reconnect", timestamp: Date.now() });
      res.end();
    }, maxDurationMs);
    cleanups.push(() => clearTimeout(t));
  }
  const done = () => cleanups.splice(0).forEach((f) => f());
  res.on("close", done);
  req.on("close", done);
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
  res.end(JSON.stringify(body));
}

async function emit(req, res) {
  let body = "";
  for await (const chunk of req) body += chunk;
  let msg;
  try {
    msg = JSON.parse(body);
  } catch {
    return json(res, 400, { error: "bad JSON" });
  }
  if (typeof msg?.channel !== "string" || !msg.channel || typeof msg.event !== "string") {
    return json(res, 400, { error: "channel and event are required" });
  }
  json(res, 200, { id: append(msg.channel, msg.event, msg.data ?? null) });
}

function history(res, url) {
  const channel = url.searchParams.get("channel") ?? "default";
  const limit = Math.min(1000, Number(url.searchParams.get("limit") ?? 1000) || 1000);
  json(res, 200, (streams.get(channel)?.entries ?? []).slice(0, limit));
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

function serveStatic(res, path) {
  if (!staticDir) return json(res, 404, { error: "not found" });
  const file = normalize(join(staticDir, decodeURIComponent(path === "/" ? "/index.html" : path)));
  if (!file.startsWith(staticDir)) return json(res, 404, { error: "not found" });
  try {
    if (!statSync(file).isFile()) throw new Error("not a file");
  } catch {
    return json(res, 404, { error: "not found" });
  }
  res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
  createReadStream(file).pipe(res);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "GET" && url.pathname === "/api/realtime") return subscribe(req, res, url);
  if (req.method === "POST" && url.pathname === "/api/emit") return void emit(req, res);
  if (req.method === "GET" && url.pathname === "/api/history") return history(res, url);
  if (req.method === "GET" && url.pathname === "/health") return json(res, 200, { ok: true });
  if (req.method === "GET") return serveStatic(res, url.pathname);
  json(res, 405, { error: "method not allowed" });
});
server.listen(port, host, () => console.log(`stand-in gateway on http://${host}:${port}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

function fail(message) {
  console.error(message);
  process.exit(2);
}
