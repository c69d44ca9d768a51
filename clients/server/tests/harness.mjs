/**
 * What the tests against the gateway share: a gateway process (FORREALTIME_BIN) on a free
 * port, and a proxy in front of it that answers 503 or loses an answer on purpose.
 */

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";

export const BIN = process.env.FORREALTIME_BIN;
if (!BIN) throw new Error("FORREALTIME_BIN is not set (the gateway under test)");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nonce = () => Math.random().toString(36).slice(2, 8);

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function startGateway(args = []) {
  const port = await freePort();
  const child = spawn(BIN, ["serve", "--host", "127.0.0.1", "--port", String(port), ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const reap = () => child.kill("SIGKILL");
  process.on("exit", reap);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await (await fetch(`${base}/healthz`)).arrayBuffer();
      break;
    } catch {
      if (i > 150) throw new Error("gateway did not start");
      await sleep(100);
    }
  }
  return {
    base,
    async stop() {
      process.off("exit", reap);
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

/**
 * A proxy to `target`. `plan` is called per request with its number (1-based) and the
 * request; it returns "forward", {status} (answer without forwarding) or "forward-then-504"
 * (the gateway stores the event, the client gets a 504, as when an answer is lost).
 */
export async function startProxy(target, plan) {
  const seen = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method, url: req.url, headers: req.headers, body: body.toString() });
    const what = plan(seen.length, req);
    if (typeof what === "object") {
      res.writeHead(what.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "injected" }));
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers["content-length"];
    const up = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? undefined : body,
    });
    const text = await up.text();
    if (what === "forward-then-504") {
      res.writeHead(504, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "gateway timeout (injected)" }));
      return;
    }
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(text);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((r) => server.close(r)),
  };
}
