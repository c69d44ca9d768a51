#!/usr/bin/env node
/**
 * The reverse-proxy recipes of docs/deploy, run as written (only the name, ports and certificate
 * paths replaced) in front of a real gateway, with ten Chromium tabs.
 *
 * The test makes a self-signed certificate for 127.0.0.1 (openssl), starts `forrealtime serve`
 * with a one-file --static page that subscribes with EventSource, then for each proxy (Debian's
 * nginx, Debian's Caddy): opens the page in ten tabs over HTTPS, checks that each tab's page
 * came over HTTP/2, that all ten streams are open at the gateway, and that one event emitted
 * from a tab (through the proxy) reaches all ten promptly (nothing buffered); with nginx, its
 * access log shows that the ten streams shared one connection; the recipe's refusals of the
 * admin paths hold. The control: the same ten tabs straight at the gateway over HTTP/1.1 get at
 * most six streams (Chromium's six connections per origin) and the other tabs stall, which is
 * why the recipes exist.
 *
 *   node tests/ops/proxy_test.mjs BIN
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), NGINX (default nginx), CADDY (default
 * caddy). A missing nginx or caddy is a failure, not a skip: scripts/install-deps.sh installs both.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const require = createRequire(join(here, "package.json"));
const { chromium } = require("playwright-core");
const [bin] = process.argv.slice(2);
const TABS = 10;
const CHANNEL = "proxy:tabs";
const ADMIN = "proxy-test-admin";

let failures = 0;
let passes = 0;
const check = (ok, what) => {
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${process.env.TIMING ? ` [${(performance.now() / 1000).toFixed(1)}s]` : ""}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });
/** page.evaluate that gives `fallback` instead of hanging on a tab whose page never came. */
const evalOr = (page, fn, arg, fallback, ms = 2000) =>
  Promise.race([page.evaluate(fn, arg).catch(() => fallback), sleep(ms).then(() => fallback)]);
const children = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
const stop = async (child) => {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  await gone;
  clearTimeout(t);
};
/** `text` with `from` replaced by `to`, failing the test when the recipe no longer has `from`. */
const must = (text, from, to, file) => {
  const found = typeof from === "string" ? text.includes(from) : from.test(text);
  check(found, `${file} still has ${from} (the test replaces it)`);
  return text.replace(from, to);
};

const work = mkdtempSync(join(tmpdir(), "forrealtime-proxy-"));

// --- a certificate for 127.0.0.1 --------------------------------------------------------------------
const cert = join(work, "cert.pem");
const key = join(work, "key.pem");
{
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", key, "-out", cert], { encoding: "utf8" });
  check(r.status === 0, `openssl made a certificate for 127.0.0.1${r.status ? ": " + r.stderr : ""}`);
}

// --- the gateway and its test page ------------------------------------------------------------------
const site = join(work, "site");
spawnSync("mkdir", ["-p", site]);
writeFileSync(join(site, "tab.html"), `<!doctype html><meta charset="utf-8"><title>tab</title>
<script>
window.got = []; window.connected = false;
const es = new EventSource("/api/realtime?channel=${encodeURIComponent(CHANNEL)}");
es.onmessage = (m) => {
  const v = JSON.parse(m.data);
  if (v.type === "connected") window.connected = true;
  if (v.event) window.got.push({ ...v, at: performance.now() });
};
window.emit = (text) => fetch("/api/emit", { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ channel: ${JSON.stringify(CHANNEL)}, event: "proxy.hello", data: { text } }) }).then((r) => r.status);
</script>`);
const gw = spawn(bin, ["serve", "--port", "0", "--static", site, "--admin-token", ADMIN, "--log-level", "warn"], { stdio: ["ignore", "pipe", "inherit"] });
children.push(gw);
const gwBase = await new Promise((ok, fail) => {
  let out = "";
  gw.stdout.on("data", (d) => {
    out += d;
    const m = /^listening on (http:\/\/\S+)/m.exec(out);
    if (m) ok(m[1]);
  });
  gw.on("exit", (c) => fail(new Error(`gateway exited (${c})`)));
});
const gwPort = new URL(gwBase).port;
const subscribers = async () => {
  const r = await fetch(`${gwBase}/api/admin/channel?channel=${encodeURIComponent(CHANNEL)}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await r.json()).subscribers;
};

// --- the browser ----------------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/**
 * Opens TABS tabs of `origin`/tab.html in one browser context (one profile: tabs of one
 * origin share its connections). Returns the pages that loaded and connected.
 */
async function openTabs(origin, { expectAll }) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const pages = await Promise.all(Array.from({ length: TABS }, () => context.newPage()));
  const loads = pages.map((page) =>
    page
      .goto(`${origin}/tab.html`, { waitUntil: "load", timeout: 30_000 })
      .then(() => page.waitForFunction(() => window.connected, null, { timeout: 30_000 }))
      .then(() => true, () => false),
  );
  const state = pages.map((page) => ({ page, loaded: false }));
  loads.forEach((l, i) => l.then((ok) => (state[i].loaded = ok)));
  if (expectAll) {
    await Promise.all(loads);
  } else {
    // Wait for six streams (however slow the machine), then give the others time to stall.
    const end = Date.now() + 30_000;
    while (state.filter((p) => p.loaded).length < 6 && Date.now() < end) await sleep(50);
    await sleep(2000);
  }
  return { context, pages: state };
}

/** The ten-tab run through a proxy at `origin`. */
async function throughProxy(name, origin, { accessLog } = {}) {
  const { context, pages } = await openTabs(origin, { expectAll: true });
  const ok = pages.filter((p) => p.loaded);
  check(ok.length === TABS, `${name}: all ${TABS} tabs loaded and connected (${ok.length})`);
  const protocols = await Promise.all(pages.map((p) => evalOr(p.page, () => performance.getEntriesByType("navigation")[0]?.nextHopProtocol, undefined, "?")));
  check(protocols.every((p) => p === "h2"), `${name}: every tab came over HTTP/2 (${[...new Set(protocols)].join(", ")})`);
  check((await subscribers()) === TABS, `${name}: the gateway has ${TABS} streams on ${CHANNEL} (${await subscribers()})`);
  // One emit from the first tab, through the proxy, over the same connection as the streams.
  const text = `through ${name} ${Date.now()}`;
  const sent = await pages[0].page.evaluate(async (t) => ({ at: performance.now(), status: await window.emit(t) }), text);
  check(sent.status === 200, `${name}: the tab's emit through the proxy answered 200 (${sent.status})`);
  const end = Date.now() + 5000;
  let got = [];
  while (Date.now() < end) {
    got = await Promise.all(pages.map((p) => evalOr(p.page, (t) => window.got.some((e) => e.data.text === t), text, false)));
    if (got.every(Boolean)) break;
    await sleep(50);
  }
  check(got.filter(Boolean).length === TABS, `${name}: the event reached all ${TABS} tabs (${got.filter(Boolean).length})`);
  // Not buffered: the first tab saw its own event well within a second of sending it.
  const lag = await pages[0].page.evaluate((t) => window.got.find((e) => e.data.text === t)?.at, text);
  check(lag !== undefined && lag - sent.at < 1000, `${name}: delivered within a second, nothing buffered (${lag === undefined ? "never" : Math.round(lag - sent.at) + " ms"})`);
  // The recipe keeps the operator's paths off the public name.
  for (const path of ["/metrics", "/api/admin/stats", "/console/", "/"]) {
    const st = await pages[0].page.evaluate((p) => fetch(p).then((r) => r.status), path);
    check(st === 404, `${name}: ${path} is refused by the recipe (${st})`);
  }
  if (accessLog) {
    // nginx logs a request when it ends: close the tabs, then wait for the ten lines.
    await context.close();
    let lines = [];
    const end = Date.now() + 5000;
    do {
      await sleep(100);
      lines = readFileSync(accessLog, "utf8").split("\n").filter((l) => l.includes("/api/realtime"));
    } while (lines.length < TABS && Date.now() < end);
    const conns = new Set(lines.map((l) => l.split(" ")[0]));
    const protos = new Set(lines.map((l) => l.split(" ")[1]));
    check(lines.length === TABS && conns.size === 1 && protos.has("HTTP/2.0") && protos.size === 1,
      `${name}: its access log shows the ${lines.length} streams on ${conns.size} connection(s) over ${[...protos].join(", ")}`);
  } else {
    await context.close();
  }
  const end2 = Date.now() + 5000;
  while ((await subscribers()) !== 0 && Date.now() < end2) await sleep(50);
}

try {
  // --- the control: HTTP/1.1 straight at the gateway ----------------------------------------------
  {
    const { context, pages } = await openTabs(gwBase, { expectAll: false });
    const connected = pages.filter((p) => p.loaded).length;
    check(connected === 6 && (await subscribers()) === 6, `control: over HTTP/1.1 only ${connected} of ${TABS} tabs get a stream (six connections per origin)`);
    await fetch(`${gwBase}/api/emit`, { method: "POST", body: JSON.stringify({ channel: CHANNEL, event: "proxy.hello", data: { text: "h1" } }) });
    await sleep(500);
    const got = await Promise.all(pages.map((p) => evalOr(p.page, () => window.got?.length > 0, undefined, false)));
    check(got.filter(Boolean).length === connected, `control: the event reached only those ${connected} tabs (${got.filter(Boolean).length}); the seventh tab stalls`);
    await Promise.race([context.close(), sleep(5000)]);
    const end = Date.now() + 5000;
    while ((await subscribers()) !== 0 && Date.now() < end) await sleep(50);
  }

  // --- nginx ------------------------------------------------------------------------------------------
  {
    const port = await freePort();
    const dir = join(work, "nginx");
    spawnSync("mkdir", ["-p", dir]);
    let recipe = readFileSync(join(root, "docs/deploy/nginx.conf"), "utf8");
    const file = "docs/deploy/nginx.conf";
    recipe = must(recipe, "server 127.0.0.1:8787;", `server 127.0.0.1:${gwPort};`, file);
    recipe = must(recipe, "listen 443 ssl http2;", `listen 127.0.0.1:${port} ssl http2;`, file);
    recipe = must(recipe, /\n\s*listen \[::\]:443 ssl http2;/, "", file);
    recipe = must(recipe, "/etc/ssl/certs/realtime.example.com.pem", cert, file);
    recipe = must(recipe, "/etc/ssl/private/realtime.example.com.key", key, file);
    const accessLog = join(dir, "access.log");
    writeFileSync(join(dir, "nginx.conf"), `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${process.getuid?.() === 0 ? "user nobody nogroup;" : ""}
events { worker_connections 256; }
http {
  log_format probe '$connection $server_protocol $request';
  access_log ${accessLog} probe;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${recipe}
}
`);
    const t = spawnSync(process.env.NGINX ?? "nginx", ["-t", "-p", dir, "-c", join(dir, "nginx.conf")], { encoding: "utf8" });
    check(t.status === 0, `nginx -t accepts the recipe${t.status ? ": " + t.stderr : ""}`);
    const nginx = spawn(process.env.NGINX ?? "nginx", ["-p", dir, "-c", join(dir, "nginx.conf")], { stdio: ["ignore", "inherit", "inherit"] });
    children.push(nginx);
    await sleep(300);
    await throughProxy("nginx", `https://127.0.0.1:${port}`, { accessLog });
    await stop(nginx);
  }

  // --- Caddy --------------------------------------------------------------------------------------------
  {
    const port = await freePort();
    const httpPort = await freePort();
    const dir = join(work, "caddy");
    spawnSync("mkdir", ["-p", dir]);
    let recipe = readFileSync(join(root, "docs/deploy/Caddyfile"), "utf8");
    const file = "docs/deploy/Caddyfile";
    recipe = must(recipe, "realtime.example.com {", `https://127.0.0.1:${port} {\n\ttls ${cert} ${key}`, file);
    recipe = must(recipe, "reverse_proxy 127.0.0.1:8787 {", `reverse_proxy 127.0.0.1:${gwPort} {`, file);
    // Global options for a test: no admin endpoint, no redirect listener on :80, state in the temp dir.
    writeFileSync(join(dir, "Caddyfile"), `{
\tadmin off
\thttp_port ${httpPort}
\tauto_https disable_redirects
\tstorage file_system ${dir}/data
\tskip_install_trust
}
${recipe}`);
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
    const v = spawnSync(process.env.CADDY ?? "caddy", ["validate", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")], { encoding: "utf8", env });
    check(v.status === 0, `caddy validate accepts the recipe${v.status ? ": " + v.stderr.slice(-500) : ""}`);
    const caddy = spawn(process.env.CADDY ?? "caddy", ["run", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")], { stdio: ["ignore", "ignore", "pipe"], env });
    children.push(caddy);
    let log = "";
    caddy.stderr.on("data", (d) => (log += d));
    const end = Date.now() + 10_000;
    while (!/serving initial configuration|server running/.test(log) && Date.now() < end && caddy.exitCode === null) await sleep(50);
    check(caddy.exitCode === null, `caddy runs${caddy.exitCode === null ? "" : ": " + log.slice(-800)}`);
    await throughProxy("Caddy", `https://127.0.0.1:${port}`);
    await stop(caddy);
  }
} catch (e) {
  check(false, `test: ${e.stack ?? e}`);
} finally {
  await browser.close().catch(() => {});
  await stop(gw);
  rmSync(work, { recursive: true, force: true });
}
console.log(`proxy: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
