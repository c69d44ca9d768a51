#!/usr/bin/env node
/**
 * docs/openapi.yaml against the real gateway.
 *
 *  1. The file is a valid OpenAPI 3.1 document (the official schema, through
 *     @seriousme/openapi-schema-validator) and its info.version is the project's version.
 *  2. No undocumented route: every path of the gateway's routing table (src/http/router.cpp)
 *     is in the spec with exactly the methods the router accepts, and the spec has no path the
 *     gateway does not serve.
 *  3. Real answers: every operation is sent to a running `forrealtime serve` (memory store; a
 *     real redis-server that is then stopped, for the 503s; a draining gateway), and each
 *     answer's status must be documented for that operation, its content type must be one the
 *     spec lists, and a JSON body must validate against the spec's schema (JSON Schema
 *     2020-12, ajv). Emit bodies are also checked against the request schema: the spec accepts
 *     exactly the bodies the gateway accepts. Every `data:` line of the streams opened here is
 *     validated against StreamMessage (connected, user events, replay, history_lost, ping,
 *     reconnect, error).
 *  4. Coverage: every documented (path, method, status) was seen, except the few listed in
 *     UNTESTED below with the reason.
 *
 *   node tests/ops/openapi_test.mjs BIN [SPEC]
 */
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const [bin, specPath = join(root, "docs/openapi.yaml")] = process.argv.slice(2);
if (!bin) {
  console.error("usage: openapi_test.mjs BIN [SPEC]");
  process.exit(2);
}

let failures = 0;
let passes = 0;
const check = (ok, what) => {
  if (ok) passes++;
  else failures++;
  if (!ok || process.env.VERBOSE) console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Documented answers that this test does not provoke, and why.
const UNTESTED = {
};
// Answers that need authorization configured (--jwt-secret-file and friends): exercised only by a
// gateway that has those flags.
// (A stream refused with 503 happens when the auth service cannot answer: auth only too.)
const AUTH_ONLY = ["get /metrics 401", "get /metrics 403", "get /api/realtime 401", "get /api/realtime 503", "get /api/realtime 403", "post /api/emit 403",
  "get /api/history 401", "get /api/history 403"];

// --- 1. the document itself ----------------------------------------------------------------------
const specText = readFileSync(specPath, "utf8");
const spec = YAML.parse(specText);
{
  const validator = new Validator();
  const res = await validator.validate(structuredClone(spec));
  check(res.valid, `docs/openapi.yaml is a valid OpenAPI ${spec.openapi} document${res.valid ? "" : ": " + JSON.stringify(res.errors, null, 1).slice(0, 2000)}`);
  check(spec.openapi?.startsWith("3.1."), `it is OpenAPI 3.1 (${spec.openapi})`);
  const cmake = readFileSync(join(root, "CMakeLists.txt"), "utf8");
  const version = /project\(forrealtime VERSION (\S+)/.exec(cmake)?.[1];
  check(spec.info.version === version, `info.version is the project's version (${spec.info.version} vs ${version})`);
}

// --- 2. the routing table against the paths -------------------------------------------------------
const METHODS = ["get", "head", "post", "put", "delete", "patch", "options"];
{
  const router = readFileSync(join(root, "src/http/router.cpp"), "utf8");
  const subscribe = /kSubscribePath = "([^"]+)"/.exec(router)?.[1];
  const routes = [...router.matchAll(/Route\{("[^"]*"|kSubscribePath),\s*([^,]+),/g)].map((m) => ({
    path: m[1] === "kSubscribePath" ? subscribe : m[1].slice(1, -1),
    methods: m[2].split("|").map((f) => f.trim().replace(/^k/, "").toLowerCase()).sort(),
  }));
  check(routes.length >= 10, `read ${routes.length} routes from src/http/router.cpp`);
  for (const r of routes) {
    const item = spec.paths[r.path];
    const documented = item ? METHODS.filter((m) => item[m]).sort() : [];
    check(JSON.stringify(documented) === JSON.stringify(r.methods),
      `route ${r.path} (${r.methods.join(", ")}) is documented with the same methods (${documented.join(", ") || "missing"})`);
  }
  // The routes outside the table: the console and static files (route() in router.cpp).
  const outside = new Set(["/", "/console/{file}", "/{file}"]);
  check(/path == "\/console"/.test(router) && /handle_static/.test(router), "router.cpp still serves the console and static files outside the table");
  for (const p of Object.keys(spec.paths))
    check(routes.some((r) => r.path === p) || outside.has(p), `spec path ${p} is served by the gateway`);
}

// --- the validator ---------------------------------------------------------------------------------
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, "openapi.json");
const validators = new Map();
const pointer = (...parts) => "openapi.json#/" + parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const validate = (ref, value) => {
  let v = validators.get(ref);
  if (!v) {
    v = ajv.compile({ $ref: ref });
    validators.set(ref, v);
  }
  const ok = v(value);
  return { ok, errors: ok ? "" : ajv.errorsText(v.errors) };
};
const deref = (obj) => {
  while (obj?.$ref) obj = obj.$ref.slice(2).split("/").reduce((o, k) => o[k.replaceAll("~1", "/").replaceAll("~0", "~")], spec);
  return obj;
};
const templateOf = (path) => {
  if (spec.paths[path]) return path;
  if (path.startsWith("/console/")) return "/console/{file}";
  return "/{file}";
};

const seen = new Set();
/** Checks one real answer against the spec; returns the parsed body (JSON or text). */
async function conform(method, path, res, what, text) {
  const tpl = templateOf(path);
  const op = spec.paths[tpl]?.[method];
  const key = `${method} ${tpl} ${res.status}`;
  seen.add(key);
  if (!op) {
    // A method the path does not list: 405, Allow naming a documented method, the Error body.
    const item = spec.paths[tpl];
    const allow = (res.headers.get("allow") ?? "").toLowerCase();
    check(res.status === 405 && !!item, `${what}: an undocumented method answers 405 (got ${res.status})`);
    check(!!item && allow.split(/,\s*/).every((m) => item[m]), `${what}: Allow (${allow}) names documented methods of ${tpl}`);
    const body = await res.json().catch(() => null);
    const v = validate("openapi.json#/components/responses/MethodNotAllowed/content/application~1json/schema", body);
    check(v.ok, `${what}: 405 body matches MethodNotAllowed${v.ok ? "" : ": " + v.errors}`);
    seen.add(`${tpl} 405`);
    return body;
  }
  const response = deref(op.responses[String(res.status)] ?? op.responses.default);
  check(!!response, `${what}: ${method.toUpperCase()} ${tpl} answered ${res.status}, a documented status`);
  text ??= await res.text();
  if (!response) return text;
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const content = response.content;
  if (!content || method === "head" || res.status === 304) {
    check(method === "head" || res.status === 304 || text.length === 0 || !content,
      `${what}: no body documented, none expected`);
    return text;
  }
  const media = content[type] ? type : content["*/*"] ? "*/*" : null;
  check(!!media, `${what}: content type ${type} is one the spec lists (${Object.keys(content).join(", ")})`);
  if (media !== "application/json") return text;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    check(false, `${what}: body is JSON (${text.slice(0, 200)})`);
    return text;
  }
  const statusKey = op.responses[String(res.status)] ? String(res.status) : "default";
  // Follow a $ref to components/responses so that the pointer names the schema itself.
  const raw = op.responses[statusKey];
  const ref = raw.$ref
    ? "openapi.json" + raw.$ref + "/content/application~1json/schema"
    : pointer("paths", tpl, method, "responses", statusKey, "content", "application/json", "schema");
  const v = validate(ref, body);
  check(v.ok, `${what}: ${res.status} body matches the schema${v.ok ? "" : `: ${v.errors} in ${text.slice(0, 300)}`}`);
  return body;
}

const emitSchema = pointer("paths", "/api/emit", "post", "requestBody", "content", "application/json", "schema");
/** Sends one request and checks the answer; `expect` is the status the test means to provoke. */
async function call(base, method, path, { query = "", body, headers = {}, expect, what } = {}) {
  const url = `${base}${path}${query ? "?" + query : ""}`;
  const res = await fetchRetry(url, {
    method: method.toUpperCase(),
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const label = what ?? `${method.toUpperCase()} ${path}${query ? "?" + query : ""}`;
  if (expect !== undefined) check(res.status === expect, `${label}: answers ${expect} (got ${res.status})`);
  const parsed = await conform(method, path.split("?")[0], res, label);
  if (path === "/api/emit" && body !== undefined && typeof body !== "string" && (res.status === 200 || res.status === 400)) {
    const v = validate(emitSchema, body);
    // A 400 for a reason outside the body (a bad Idempotency-Key header) says nothing of the body.
    if (res.status === 200 || !headers["idempotency-key"])
      check(v.ok === (res.status === 200), `${label}: the request schema ${v.ok ? "accepts" : "refuses"} this body as the gateway does (${res.status})`);
  }
  return { res, body: parsed };
}

/** Opens a stream, validates each data: line against StreamMessage, returns the messages. */
function openStream(base, query, { headers = {}, what } = {}) {
  const ac = new AbortController();
  const messages = [];
  const ids = [];
  const label = what ?? `GET /api/realtime?${query}`;
  const dataRef = pointer("paths", "/api/realtime", "get", "responses", "200", "content", "text/event-stream", "x-data-schema");
  const ready = (async () => {
    let res;
    try {
      res = await fetch(`${base}/api/realtime?${query}`, { headers, signal: ac.signal });
    } catch (e) {
      check(false, `${label}: the request failed: ${e.cause?.message ?? e.message}`);
      return { status: 0 };
    }
    if (res.status !== 200) {
      await conform("get", "/api/realtime", res, label);
      return res;
    }
    await conform("get", "/api/realtime", res, label, "");
    check(res.headers.get("x-accel-buffering") === "no" && res.headers.get("cache-control") === "no-cache, no-transform",
      `${label}: the documented stream headers`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            for (const line of frame.split("\n")) {
              if (line.startsWith("id: ")) ids.push(line.slice(4));
              if (!line.startsWith("data: ")) continue;
              let msg;
              try {
                msg = JSON.parse(line.slice(6));
              } catch {
                check(false, `${label}: data line is JSON: ${line}`);
                continue;
              }
              const v = validate(dataRef, msg);
              check(v.ok, `${label}: stream message ${line.slice(6, 120)} matches StreamMessage${v.ok ? "" : ": " + v.errors}`);
              messages.push(msg);
            }
          }
        }
      } catch {}
    })();
    return res;
  })();
  return { ready, messages, ids, close: () => ac.abort() };
}
// A keep-alive connection the gateway closed between two requests fails the next one with a
// socket error before any byte of it is answered; that one retry is not a status to check.
const fetchRetry = (url, init) =>
  fetch(url, init).catch((e) => {
    if (!/ECONNRESET|other side closed|UND_ERR_SOCKET/.test(`${e.cause?.code} ${e.cause?.message}`)) throw e;
    return fetch(url, init);
  });
const statusOf = (url) => fetch(url).then((r) => r.status, () => 0);
const until = async (cond, ms, what) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(20);
  }
  check(false, `timed out waiting for ${what}`);
  return false;
};

// --- servers -------------------------------------------------------------------------------------
const children = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
async function startGateway(args, { env = {} } = {}) {
  const gw = spawn(bin, ["serve", "--port", "0", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  children.push(gw);
  let err = "";
  gw.stderr.on("data", (d) => (err += d));
  const base = await new Promise((ok, fail) => {
    let out = "";
    gw.stdout.on("data", (d) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)/m.exec(out);
      if (m) ok(m[1]);
    });
    gw.on("exit", (c) => fail(new Error(`gateway exited (${c}): ${err}`)));
  });
  return { gw, base, stderr: () => err };
}
const stop = async (gw) => {
  if (gw.exitCode !== null) return;
  const gone = new Promise((r) => gw.once("exit", r));
  gw.kill("SIGTERM");
  await gone;
};
const freePort = () =>
  new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });

const EMIT = "openapi-emit-token";
const ADMIN = "openapi-admin-token";
const auth = (t) => ({ authorization: `Bearer ${t}` });
const json = { "content-type": "application/json" };

// --- 3a. the memory-store gateway: every operation and its refusals ------------------------------
{
  const { gw, base } = await startGateway([
    "--emit-token", EMIT, "--admin-token", ADMIN, "--max-body", "4096", "--max-channels", "3",
    "--memory-max-length", "3", "--memory-max-channels", "40", "--ping-interval", "0.3",
  ]);
  const E = { ...json, ...auth(EMIT) };

  // emit: one, a batch, idempotency, and every refusal
  const one = await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "chat.message", data: { text: "hi" } }, headers: E, expect: 200 });
  const first = one.body?.id;
  await call(base, "post", "/api/emit", { body: [{ channel: "room:1", event: "chat.message", data: 1 }, { event: "system.tick", data: null }], headers: E, expect: 200, what: "batch emit" });
  const k1 = await call(base, "post", "/api/emit", { body: { channel: "room:2", event: "a.b", data: 1 }, headers: { ...E, "idempotency-key": "order-42" }, expect: 200, what: "emit with Idempotency-Key" });
  const k2 = await call(base, "post", "/api/emit", { body: { channel: "room:2", event: "a.b", data: 1 }, headers: { ...E, "idempotency-key": "order-42" }, expect: 200, what: "the same Idempotency-Key again" });
  check(k1.body?.id && k1.body.id === k2.body?.id, `a repeated Idempotency-Key answers the first id (${k1.body?.id}, ${k2.body?.id})`);
  await call(base, "post", "/api/emit", { body: [{ channel: "room:2", event: "a.b", data: 2, idempotency_key: "item-1" }], headers: E, expect: 200, what: "batch item with idempotency_key" });
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: json, expect: 401, what: "emit without the emit token" });
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: { ...json, ...auth("wrong") }, expect: 401, what: "emit with a wrong token" });
  for (const [bad, why] of [
    [{ channel: "room:1", data: 1 }, "no event"],
    [{ channel: "room:1", event: "nonamespace", data: 1 }, "event without a namespace"],
    [{ channel: "", event: "a.b", data: 1 }, "empty channel"],
    [{ channel: "x".repeat(257), event: "a.b", data: 1 }, "channel over 256 bytes"],
    [{ channel: "a\u0001b", event: "a.b", data: 1 }, "control character in channel"],
    [{ channel: "room:1", event: 5, data: 1 }, "non-string event"],
    [[], "empty batch"],
    [{ channel: "room:1", event: "a.b", data: 1, idempotency_key: "has space" }, "bad item idempotency_key"],
  ])
    await call(base, "post", "/api/emit", { body: bad, headers: E, expect: 400, what: `emit refused: ${why}` });
  await call(base, "post", "/api/emit", { body: "{not json", headers: E, expect: 400, what: "emit refused: malformed JSON" });
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: { ...E, "idempotency-key": "x".repeat(300) }, expect: 400, what: "emit refused: Idempotency-Key over 255 bytes" });
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: "x".repeat(5000) }, headers: E, expect: 413, what: "emit over --max-body" });
  await call(base, "get", "/api/emit", { expect: 405, what: "GET /api/emit" });

  // history
  await call(base, "get", "/api/history", { query: "channel=room:1", expect: 200 });
  await call(base, "get", "/api/history", { query: "channel=room:1&last=2", expect: 200 });
  await call(base, "get", "/api/history", { query: `channel=room:1&limit=1&after=${first}`, expect: 200 });
  await call(base, "get", "/api/history", { query: "channel=room:1&start=0&end=99999999999999", expect: 200 });
  await call(base, "get", "/api/history", { query: "", expect: 200, what: "history of the default channel" });
  for (const q of ["channel=room:1&last=0", "channel=room:1&last=1001", "channel=room:1&last=5&limit=5", "channel=room:1&limit=-1", "channel=room:1&after=nope", "channel=room:1&start=yesterday", "channel="])
    await call(base, "get", "/api/history", { query: q, expect: 400 });
  await call(base, "post", "/api/history", { query: "channel=room:1", body: "", expect: 405 });

  // subscribe: connected, live, replay, history_lost, ping, reconnect (admin close)
  const live = openStream(base, "channel=room:1&channel=room:3");
  await live.ready;
  await until(() => live.messages.filter((m) => m.type === "connected").length === 2, 3000, "two connected messages");
  await call(base, "post", "/api/emit", { body: { channel: "room:3", event: "chat.message", data: { n: 1 } }, headers: E, expect: 200 });
  await until(() => live.messages.some((m) => m.channel === "room:3" && m.event === "chat.message"), 3000, "the live event");
  check(live.ids.length >= 1, `user events carry id: (${live.ids.join(",")})`);
  await until(() => live.messages.some((m) => m.type === "ping"), 3000, "a ping");
  // history_lost: room:1 keeps 3 events (--memory-max-length 3); resume from the first of 6.
  for (let i = 0; i < 4; i++)
    await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "chat.message", data: i }, headers: E, expect: 200 });
  const resume = openStream(base, `channel=room:1&last_ack_room:1=${first}`, { what: "subscribe resuming past the kept history" });
  await resume.ready;
  await until(() => resume.messages.some((m) => m.type === "history_lost"), 3000, "history_lost");
  await until(() => resume.messages.filter((m) => m.event === "chat.message").length >= 3, 3000, "the replay");
  const oneCh = openStream(base, "channel=room:2", { headers: { "last-event-id": k1.body?.id ?? "0-0" }, what: "subscribe with Last-Event-ID" });
  await oneCh.ready;
  // reconnect: the admin API ends the streams of room:1
  const closed = await call(base, "post", "/api/admin/channel/close", { query: "channel=room:1", headers: auth(ADMIN), expect: 200 });
  check(closed.body?.closed >= 2, `close ended the room:1 streams (${closed.body?.closed})`);
  await until(() => live.messages.some((m) => m.type === "reconnect"), 3000, "reconnect");
  live.close();
  resume.close();
  for (const q of ["channel=", "channel=a&channel=b&channel=c&channel=d", "channel=room:1&last_ack_room:1=bad", "channel=" + "x".repeat(300)])
    await openStream(base, q).ready;
  await call(base, "post", "/api/realtime", { query: "channel=a", body: "", expect: 405 });

  // probes and metrics
  await call(base, "get", "/healthz", { expect: 200 });
  await call(base, "head", "/healthz", { expect: 200 });
  await call(base, "get", "/livez", { expect: 200 });
  await call(base, "head", "/livez", { expect: 200 });
  await call(base, "get", "/readyz", { expect: 200 });
  await call(base, "head", "/readyz", { expect: 200 });
  await call(base, "get", "/metrics", { expect: 200 });
  for (const p of ["/healthz", "/livez", "/readyz", "/metrics"]) await call(base, "post", p, { body: "", expect: 405 });

  // the admin API
  await call(base, "get", "/api/admin/stats", { headers: auth(ADMIN), expect: 200 });
  await call(base, "get", "/api/admin/channels", { headers: auth(ADMIN), expect: 200 });
  await call(base, "get", "/api/admin/channel", { query: "channel=room:2", headers: auth(ADMIN), expect: 200 });
  await call(base, "get", "/api/admin/channel", { query: "channel=never-used", headers: auth(ADMIN), expect: 200, what: "admin channel of an empty stream" });
  await call(base, "get", "/api/admin/channel", { headers: auth(ADMIN), expect: 400, what: "admin channel without ?channel" });
  await call(base, "post", "/api/admin/channel/close", { query: "channel=", headers: auth(ADMIN), expect: 400, what: "admin close with an empty channel" });
  await call(base, "post", "/api/admin/subject/close", { query: "subject=nobody", headers: auth(ADMIN), expect: 200, what: "admin close-subject of a subject with no stream" });
  await call(base, "post", "/api/admin/subject/close", { headers: auth(ADMIN), body: "", expect: 400, what: "admin close-subject without ?subject" });
  for (const [m, p, q] of [["get", "/api/admin/stats"], ["get", "/api/admin/channels"], ["get", "/api/admin/channel", "channel=a"], ["post", "/api/admin/channel/close", "channel=a"], ["post", "/api/admin/subject/close", "subject=a"]]) {
    await call(base, m, p, { query: q, body: m === "post" ? "" : undefined, expect: 401, what: `${p} without the admin token` });
    await call(base, m === "get" ? "post" : "get", p, { query: q, body: m === "get" ? "" : undefined, headers: auth(ADMIN), expect: 405 });
  }

  // the console and the rest
  const page = await call(base, "get", "/", { expect: 200, what: "GET / (the console)" });
  check(typeof page.body === "string" && page.body.includes("forrealtime console"), "/ is the console's page");
  const etag = (await fetch(`${base}/`)).headers.get("etag");
  await call(base, "get", "/", { headers: { "if-none-match": etag }, expect: 304 });
  for (const f of ["index.html", "console.js", "console.css"]) {
    const r = await call(base, "get", `/console/${f}`, { expect: 200 });
    if (f !== "index.html") {
      const tag = (await fetch(`${base}/console/${f}`)).headers.get("etag");
      await call(base, "get", `/console/${f}`, { headers: { "if-none-match": tag }, expect: 304 });
    }
    void r;
  }
  await call(base, "get", "/console/nope.js", { expect: 404 });
  await call(base, "get", "/nope.html", { expect: 404, what: "a static path without --static" });
  await call(base, "post", "/nope.html", { body: "", expect: 405, what: "POST to a static path" });
  await call(base, "post", "/", { body: "", expect: 405, what: "POST /" });
  await call(base, "delete", "/console/console.js", { expect: 405, what: "DELETE a console file" });
  const unknown = await fetch(`${base}/api/nope`);
  check(unknown.status === 404 && (await unknown.json()).error, "an unknown /api/ path is 404 with an error body");

  // 507 last: fill the memory store's 40 channels
  let full = 0;
  for (let i = 0; i < 45 && full === 0; i++) {
    const r = await call(base, "post", "/api/emit", { body: { channel: `fill:${i}`, event: "a.b", data: i }, headers: E, what: `emit to new channel fill:${i}` });
    if (r.res.status === 507) full++;
  }
  check(full === 1, "an emit beyond --memory-max-channels answers 507");

  oneCh.close();
  gw.kill("SIGTERM");
  await new Promise((r) => gw.once("exit", r));
}

// --- 3b. --static: files from a directory ------------------------------------------------------
{
  const dir = mkdtempSync(join(tmpdir(), "forrealtime-openapi-static-"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>demo</title>");
  writeFileSync(join(dir, "hello.txt"), "hello");
  const { gw, base } = await startGateway(["--static", dir]);
  const r = await call(base, "get", "/hello.txt", { expect: 200, what: "a static file" });
  check(r.body === "hello", "the static file's bytes");
  const idx = await call(base, "get", "/", { expect: 200, what: "GET / with --static is its index.html" });
  check(typeof idx.body === "string" && idx.body.includes("<title>demo</title>"), "/ is the static index.html");
  await call(base, "get", "/missing.txt", { expect: 404, what: "a missing static file" });
  gw.kill("SIGTERM");
  await new Promise((r) => gw.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}

// --- 3c. Redis down: the 503s ----------------------------------------------------------------------
const haveRedis = spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
if (haveRedis) {
  const dir = mkdtempSync(join(tmpdir(), "forrealtime-openapi-"));
  const port = await freePort();
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
  children.push(redis);
  await until(() => spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout?.toString().trim() === "PONG", 10_000, "redis-server");
  const { gw, base } = await startGateway(["--redis", `redis://127.0.0.1:${port}`]);
  const stream = openStream(base, "channel=down:1", { what: "a stream when the store goes away" });
  await stream.ready;
  await until(() => stream.messages.some((m) => m.type === "connected"), 3000, "connected on Redis");
  // 504: Redis takes no writes for longer than the store's command timeout (5 s).
  spawnSync("redis-cli", ["-p", String(port), "client", "pause", "5600", "write"]);
  await call(base, "post", "/api/emit", { body: { channel: "down:1", event: "a.b", data: 1 }, headers: { ...json, "idempotency-key": "paused-1" }, expect: 504, what: "emit while Redis takes no writes" });
  redis.kill("SIGTERM");
  await new Promise((r) => redis.once("exit", r));
  let st = 0;
  const end = Date.now() + 10_000;
  while (st !== 503 && Date.now() < end) {
    st = await statusOf(`${base}/readyz`);
    await sleep(50);
  }
  await call(base, "get", "/readyz", { expect: 503, what: "/readyz with Redis down" });
  await call(base, "head", "/readyz", { expect: 503, what: "HEAD /readyz with Redis down" });
  await call(base, "get", "/healthz", { expect: 503, what: "/healthz with Redis down" });
  await call(base, "head", "/healthz", { expect: 503, what: "HEAD /healthz with Redis down" });
  await call(base, "post", "/api/emit", { body: { channel: "down:1", event: "a.b", data: 1 }, headers: json, expect: 503, what: "emit with Redis down" });
  await call(base, "get", "/api/history", { query: "channel=down:1", expect: 503, what: "history with Redis down" });
  await call(base, "get", "/api/admin/channel", { query: "channel=down:1", expect: 503, what: "admin channel with Redis down" });
  const late = openStream(base, "channel=down:2", { what: "subscribe with Redis down" });
  await late.ready;
  await until(() => late.messages.some((m) => m.type === "error") || stream.messages.some((m) => m.type === "error"), 5000, "an error message on a stream");
  stream.close();
  late.close();
  gw.kill("SIGTERM");
  await new Promise((r) => gw.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
} else {
  check(false, "redis-server is installed (scripts/install-deps.sh test)");
}

// --- 3c'. limits: 429 over the emit rate, a history answer cut at its byte cap ---------------------
{
  const { gw, base } = await startGateway(["--emit-rate", "1", "--emit-burst", "2", "--max-history-bytes", "400"]);
  const ev = (i) => ({ channel: "limits", event: "a.b", data: { text: "x".repeat(100), i } });
  await call(base, "post", "/api/emit", { body: ev(1), headers: json, expect: 200, what: "emit within the burst" });
  await call(base, "post", "/api/emit", { body: ev(2), headers: json, expect: 200, what: "emit within the burst (2)" });
  const over = await call(base, "post", "/api/emit", { body: ev(3), headers: json, expect: 429, what: "emit over --emit-rate" });
  const retry = Number(over.res.headers.get("retry-after"));
  check(Number.isInteger(retry) && retry >= 1, `429 carries Retry-After in whole seconds (${over.res.headers.get("retry-after")})`);
  await sleep(retry * 1000 + 100);
  await call(base, "post", "/api/emit", { body: ev(3), headers: json, expect: 200, what: "emit after Retry-After" });
  const h = await call(base, "get", "/api/history", { query: "channel=limits", expect: 200, what: "history over --max-history-bytes" });
  check(h.res.headers.get("forrealtime-truncated") === "bytes" && Array.isArray(h.body) && h.body.length >= 1 && h.body.length < 3,
    `the answer is cut before the byte cap and says so (${h.res.headers.get("forrealtime-truncated")}, ${h.body?.length} events)`);
  await stop(gw);
}

// --- 3d. draining: /readyz 503 and new streams refused ---------------------------------------------
{
  const { gw, base } = await startGateway(["--drain-delay", "3"]);
  gw.kill("SIGTERM");
  let st = 0;
  const end = Date.now() + 5000;
  while (st !== 503 && Date.now() < end) {
    st = await statusOf(`${base}/readyz`);
    if (st !== 503) await sleep(20);
  }
  const r = await call(base, "get", "/readyz", { expect: 503, what: "/readyz while draining" });
  check(r.body?.reason === "draining", `the reason is draining (${r.body?.reason})`);
  await call(base, "get", "/livez", { expect: 200, what: "/livez while draining" });
  gw.kill("SIGINT");
  await new Promise((r) => gw.once("exit", r));
}

// --- 3e. authorization: JWT (bearer, cookie, query) and forward auth --------------------------
const authFlags = spawnSync(bin, ["serve", "--help"], { encoding: "utf8" }).stdout.includes("--jwt-secret-file");
if (authFlags) {
  const dir = mkdtempSync(join(tmpdir(), "forrealtime-openapi-auth-"));
  const secret = randomBytes(48).toString("base64");
  writeFileSync(join(dir, "secret"), secret);
  const b64 = (x) => Buffer.from(JSON.stringify(x)).toString("base64url");
  const mint = (grants, sub = "ada") => {
    const now = Math.floor(Date.now() / 1000);
    const input = b64({ alg: "HS256", typ: "JWT" }) + "." + b64({ sub, iat: now, exp: now + 600, realtime: grants });
    return input + "." + createHmac("sha256", secret).update(input).digest("base64url");
  };
  const reader = mint({ subscribe: ["room:*"], history: ["room:*"], emit: [] });
  const writer = mint({ subscribe: ["room:*"], emit: ["room:*"] });
  const admin = mint({ subscribe: [], admin: true });
  const { gw, base } = await startGateway(["--jwt-secret-file", join(dir, "secret"), "--public-channels", "news"]);
  const bearer = (t) => ({ authorization: `Bearer ${t}` });
  // subscribe: public, no credential, not granted, and the three ways to carry the token
  const pub = openStream(base, "channel=news", { what: "subscribe to a public channel without a credential" });
  await pub.ready;
  await openStream(base, "channel=room:1", { what: "subscribe without a credential" }).ready;
  await openStream(base, "channel=secret:1", { headers: bearer(reader), what: "subscribe to a channel the token does not grant" }).ready;
  const viaBearer = openStream(base, "channel=room:1", { headers: bearer(reader), what: "subscribe with the JWT as a bearer token" });
  const viaCookie = openStream(base, "channel=room:1", { headers: { cookie: `forrealtime_token=${reader}` }, what: "subscribe with the JWT in the cookie" });
  const viaQuery = openStream(base, `channel=room:1&token=${reader}`, { what: "subscribe with the JWT as ?token=" });
  const opened = await Promise.all([viaBearer.ready, viaCookie.ready, viaQuery.ready]);
  check(opened.every((r) => r.status === 200), `the JWT opens a stream as bearer, cookie and query (${opened.map((r) => r.status).join(", ")})`);
  // history
  await call(base, "get", "/api/history", { query: "channel=room:1", expect: 401, what: "history without a credential" });
  await call(base, "get", "/api/history", { query: "channel=secret:1", headers: bearer(reader), expect: 403, what: "history the token does not grant" });
  await call(base, "get", "/api/history", { query: "channel=room:1", headers: bearer(reader), expect: 200, what: "history the token grants" });
  // emit
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: json, expect: 401, what: "emit without a credential" });
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: { ...json, ...bearer(reader) }, expect: 403, what: "emit the token does not grant" });
  await call(base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: { ...json, ...bearer(writer) }, expect: 200, what: "emit the token grants" });
  await until(() => [viaBearer, viaCookie, viaQuery].every((s) => s.messages.some((m) => m.event === "a.b")), 3000, "the event on the three streams");
  // /metrics behind the admin grant once authorization is configured
  await call(base, "get", "/metrics", { expect: 401, what: "/metrics without a credential (auth configured)" });
  await call(base, "get", "/metrics", { headers: bearer(reader), expect: 403, what: "/metrics with a token without the admin grant" });
  await call(base, "get", "/metrics", { headers: bearer(admin), expect: 200, what: "/metrics with the admin grant" });
  // the admin API behind the admin grant (no --admin-token)
  await call(base, "get", "/api/admin/stats", { expect: 401, what: "admin stats without a credential (auth configured)" });
  await call(base, "get", "/api/admin/stats", { headers: bearer(reader), expect: 403, what: "admin stats with a token without the admin grant" });
  await call(base, "get", "/api/admin/stats", { headers: bearer(admin), expect: 200, what: "admin stats with the admin grant" });
  for (const [m, p, q] of [["get", "/api/admin/channels"], ["get", "/api/admin/channel", "channel=room:1"], ["post", "/api/admin/channel/close", "channel=room:1"], ["post", "/api/admin/subject/close", "subject=nobody"]]) {
    await call(base, m, p, { query: q, body: m === "post" ? "" : undefined, headers: bearer(reader), expect: 403, what: `${p} without the admin grant` });
    await call(base, m, p, { query: q, body: m === "post" ? "" : undefined, headers: bearer(admin), expect: 200, what: `${p} with the admin grant` });
  }
  // End the streams of one subject: ada's two go (reconnect), bob's stays.
  const bob = mint({ subscribe: ["room:*"] }, "bob");
  const ada1 = openStream(base, "channel=room:7", { headers: bearer(reader), what: "ada's first stream" });
  const ada2 = openStream(base, `channel=room:8&token=${reader}`, { what: "ada's second stream" });
  const bobs = openStream(base, "channel=room:7", { headers: bearer(bob), what: "bob's stream" });
  await Promise.all([ada1.ready, ada2.ready, bobs.ready]);
  await until(() => [ada1, ada2, bobs].every((s) => s.messages.some((m) => m.type === "connected")), 3000, "the three streams connected");
  const cli = spawnSync(bin, ["admin", "close-subject", "ada", "--url", base, "--token", admin], { encoding: "utf8" });
  // ada's three earlier streams (room:1) were ended by the channel close above: these two remain.
  check(cli.status === 0 && /ended 2 stream\(s\) of subject ada/.test(cli.stdout), `forrealtime admin close-subject ada ended ada's two streams (${cli.stdout.trim()} ${cli.stderr.trim()})`);
  await until(() => ada1.messages.some((m) => m.type === "reconnect") && ada2.messages.some((m) => m.type === "reconnect"), 3000, "reconnect on ada's streams");
  await sleep(300);
  check(!bobs.messages.some((m) => m.type === "reconnect"), "bob's stream goes on");
  await call(base, "post", "/api/admin/subject/close", { query: "subject=bob", headers: bearer(admin), expect: 200, what: "close-subject bob over HTTP" });
  for (const s of [ada1, ada2, bobs]) s.close();
  for (const s of [pub, viaBearer, viaCookie, viaQuery]) s.close();
  await stop(gw);
  // forward auth that cannot answer: 503 on every operation (fail closed)
  const dead = await freePort();
  const fw = await startGateway(["--auth-url", `http://127.0.0.1:${dead}/auth`, "--auth-timeout", "1"]);
  await openStream(fw.base, "channel=room:1", { what: "subscribe when the auth service cannot answer" }).ready;
  await call(fw.base, "get", "/api/history", { query: "channel=room:1", expect: 503, what: "history when the auth service cannot answer" });
  await call(fw.base, "post", "/api/emit", { body: { channel: "room:1", event: "a.b", data: 1 }, headers: json, expect: 503, what: "emit when the auth service cannot answer" });
  await stop(fw.gw);
  rmSync(dir, { recursive: true, force: true });
}

// --- 4. coverage ---------------------------------------------------------------------------------
for (const path of Object.keys(spec.paths))
  check(seen.has(`${path} 405`),
    `${path} was sent a method it does not list (405)`);
const authRuns = authFlags;
for (const [path, item] of Object.entries(spec.paths))
  for (const m of METHODS) {
    if (!item[m]) continue;
    for (const status of Object.keys(item[m].responses)) {
      const key = `${m} ${path} ${status}`;
      if (seen.has(key)) continue;
      if (UNTESTED[key]) {
        console.log(`skip ${key}: ${UNTESTED[key]}`);
        continue;
      }
      if (!authRuns && AUTH_ONLY.includes(key)) {
        console.log(`skip ${key}: needs authorization configured, which this build does not have`);
        continue;
      }
      check(false, `documented answer ${key} was exercised`);
    }
  }

console.log(`openapi: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
