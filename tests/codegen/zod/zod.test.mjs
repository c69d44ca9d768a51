// Zod -> schema file -> the real gateway: `serve --schema` accepts what the Zod schema accepts
// and answers 400 with the event, the JSON pointer and the reason for what it refuses; the same
// file also feeds `codegen ts`. FORREALTIME_BIN names the program (default: build/release).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { events } from "./events.mjs";
import { writeSchemaFile } from "./schema-file.mjs";

const root = resolve(import.meta.dirname, "../../..");
const bin = process.env.FORREALTIME_BIN ?? join(root, "build/release/src/cli/forrealtime");
const dir = mkdtempSync(join(tmpdir(), "fr-zod-"));
const schemaPath = join(dir, "events.schema.json");
let gateway;
let base;

before(async () => {
  writeSchemaFile(events, schemaPath);
  gateway = spawn(bin, ["serve", "--port", "0", "--host", "127.0.0.1", "--schema", schemaPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  gateway.stderr.on("data", (d) => (log += d));
  base = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("the gateway did not start:\n" + log)), 10_000);
    gateway.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    gateway.on("exit", (code) => fail(new Error(`the gateway exited (${code}):\n${log}`)));
  });
});

after(() => {
  gateway?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

async function emit(body) {
  const r = await fetch(base + "/api/emit", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

test("an emit the Zod schema accepts is stored", async () => {
  const data = { text: "hi", user: { id: "u1", name: "Ann" } };
  assert.ok(events.chat.message.safeParse(data).success);
  const r = await emit({ channel: "room", event: "chat.message", data });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.id, /^\d+-\d+$/);
  const h = await (await fetch(base + "/api/history?channel=room")).json();
  assert.deepEqual(h.map((e) => e.data), [data]);
});

test("an emit the Zod schema refuses is a 400 that says where and why", async () => {
  const data = { text: "hi", user: { id: 7, name: "Ann" } };
  assert.ok(!events.chat.message.safeParse(data).success);
  const r = await emit({ channel: "room", event: "chat.message", data });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, "chat.message: /user/id: expected string, got number");
  const bad = await emit({ event: "notification.alert", data: { level: "loud", body: "x", tags: [] } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'notification.alert: /level: expected one of ["info","warning","critical"]');
  const unknown = await emit({ event: "chat.nope", data: {} });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error, "chat.nope: unknown event (not in the schema)");
});

test("the same file feeds codegen ts", () => {
  const out = join(dir, "events.ts");
  execFileSync(bin, ["codegen", "ts", "--schema", schemaPath, "--out", out]);
  const ts = readFileSync(out, "utf8");
  assert.match(ts, /export type Events = \{/);
  assert.match(ts, /level: "info" \| "warning" \| "critical";/);
  assert.match(ts, /replyTo\?: string;/);
});
