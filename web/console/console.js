// The live console: polls /api/admin/stats once a second, charts the rates it derives from the
// counters, lists the top channels, and lets a visitor subscribe and emit. No dependencies: the
// gateway serves this file from memory, so the page works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const HISTORY = 120; // seconds kept on the charts
const series = {}; // name -> array of numbers
const colors = ["#4fb3ff", "#ffb454"];
let token = sessionStorage.getItem("forrealtime-admin-token") || "";
let previous = null; // the last stats and when they came
let channelRates = new Map();

function push(name, value) {
  const s = (series[name] ??= []);
  s.push(Number.isFinite(value) ? value : 0);
  if (s.length > HISTORY) s.shift();
}

function format(n) {
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1);
}

function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}

function draw(canvas) {
  const names = canvas.dataset.chart.split(",");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  let max = 1;
  for (const n of names) for (const v of series[n] ?? []) max = Math.max(max, v);
  max *= 1.1;
  ctx.strokeStyle = "#2a3642";
  ctx.fillStyle = "#8a96a3";
  ctx.font = "10px system-ui";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 2; i++) {
    const y = 4 + ((h - 8) * i) / 2;
    ctx.beginPath(); ctx.moveTo(30, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText(format(max * (1 - i / 2)), 0, y + 3);
  }
  names.forEach((n, k) => {
    const s = series[n] ?? [];
    ctx.strokeStyle = colors[k % colors.length];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    s.forEach((v, i) => {
      const x = 30 + ((w - 30) * (i + HISTORY - s.length)) / (HISTORY - 1);
      const y = 4 + (h - 8) * (1 - v / max);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = colors[k % colors.length];
    ctx.fillText(n, w - 60 + k * 0, 12 + k * 12);
  });
  canvas.dataset.points = String((series[names[0]] ?? []).length);
}

function table(id, rows) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren(...rows.map(([a, b]) => {
    const tr = document.createElement("tr");
    for (const v of [a, b]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  }));
}

async function poll() {
  let res;
  try {
    res = await fetch("/api/admin/stats", { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    $("status").textContent = "unreachable";
    $("status").className = "pill bad";
    return;
  }
  // 401: no credential yet; 403: authorization is configured and this one lacks the admin
  // grant (a JWT without realtime.admin). Either way the console asks for another.
  if (res.status === 401 || res.status === 403) {
    $("login").hidden = false;
    $("main").hidden = true;
    $("login-error").textContent = res.status === 403 ? "this credential lacks the admin grant" : "";
    $("status").textContent = "admin token needed";
    $("status").className = "pill bad";
    return;
  }
  if (!res.ok) {
    $("status").textContent = `stats: ${res.status}`;
    $("status").className = "pill bad";
    return;
  }
  $("login").hidden = true;
  $("main").hidden = false;
  const s = await res.json();
  const now = performance.now();
  $("version").textContent = `v${s.version}`;
  $("store").textContent = `${s.store.name} ${s.store.healthy ? "ok" : "DOWN"}`;
  $("uptime").textContent = uptime(s.uptime_secs);
  $("ready").textContent = s.draining ? "draining" : s.ready ? "ready" : "not ready";
  $("status").textContent = s.ready ? "live" : "not ready";
  $("status").className = `pill ${s.ready ? "ok" : "bad"}`;
  $("v-streams").textContent = format(s.streams);
  $("v-connections").textContent = format(s.connections);
  $("v-drops").textContent = format(s.slow_consumer_drops_total);
  const lat = s.store_latency_seconds ?? {};
  $("v-latency").textContent = format((lat.p99 ?? 0) * 1000);
  push("connections", s.connections);
  push("streams", s.streams);
  push("p50", (lat.p50 ?? 0) * 1000);
  push("p99", (lat.p99 ?? 0) * 1000);
  if (previous) {
    const dt = Math.max(0.001, (now - previous.at) / 1000);
    const rate = (k) => Math.max(0, (s[k] - previous.stats[k]) / dt);
    const rin = rate("events_in_total"), rout = rate("deliveries_total");
    push("in", rin);
    push("out", rout);
    push("drops", rate("slow_consumer_drops_total"));
    $("v-in").textContent = format(rin);
    $("v-out").textContent = format(rout);
    const before = new Map(previous.stats.channels.map((c) => [c.channel, c.events_total]));
    channelRates = new Map(s.channels.map((c) => [c.channel, Math.max(0, (c.events_total - (before.get(c.channel) ?? c.events_total)) / dt)]));
  }
  previous = { stats: s, at: now };
  const bySubs = [...s.channels].sort((a, b) => b.subscribers - a.subscribers).slice(0, 10);
  table("t-subs", bySubs.map((c) => [c.channel, format(c.subscribers)]));
  const byRate = [...channelRates].sort((a, b) => b[1] - a[1]).slice(0, 10);
  table("t-rate", byRate.map(([c, r]) => [c, format(r)]));
  // postgresSync, when the gateway runs it: the outbox lag and the connection.
  const pg = s.postgres_sync;
  $("f-outbox").hidden = !pg;
  if (pg) {
    push("outbox lag", pg.outbox_lag_seconds);
    $("pg-state").textContent = pg.connected ? "connected" : "DISCONNECTED";
  }
  for (const c of document.querySelectorAll("canvas[data-chart]")) if (c.offsetParent) draw(c);
}

$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  token = $("token").value;
  sessionStorage.setItem("forrealtime-admin-token", token);
  poll();
});

// --- try it -----------------------------------------------------------------------------------
let source = null;
function show(line) {
  const li = document.createElement("li");
  li.textContent = line;
  $("events").prepend(li);
  while ($("events").children.length > 100) $("events").lastChild.remove();
}

$("sub-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (source) {
    source.close();
    source = null;
    $("sub-state").textContent = "not subscribed";
    $("sub-button").textContent = "Subscribe";
    return;
  }
  const channels = $("sub-channels").value.split(",").map((c) => c.trim()).filter(Boolean);
  const q = channels.map((c) => `channel=${encodeURIComponent(c)}`).join("&");
  source = new EventSource(`/api/realtime?${q}`);
  $("sub-button").textContent = "Unsubscribe";
  $("sub-state").textContent = "connecting…";
  source.onopen = () => ($("sub-state").textContent = `subscribed to ${channels.join(", ")}`);
  source.onerror = () => ($("sub-state").textContent = "reconnecting…");
  source.onmessage = (m) => {
    let v;
    try { v = JSON.parse(m.data); } catch { return; }
    if (v.type === "ping" || v.type === "connected") return;
    if (v.event) show(`${v.id ?? ""} ${v.channel} ${v.event} ${JSON.stringify(v.data)}`);
  };
});

$("emit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  let data;
  try {
    data = JSON.parse($("emit-data").value);
  } catch (err) {
    $("emit-result").textContent = `data is not JSON: ${err.message}`;
    return;
  }
  const headers = { "content-type": "application/json" };
  if ($("emit-token").value) headers.authorization = `Bearer ${$("emit-token").value}`;
  const res = await fetch("/api/emit", {
    method: "POST",
    headers,
    body: JSON.stringify({ channel: $("emit-channel").value, event: $("emit-event").value, data }),
  });
  const body = await res.json().catch(() => ({}));
  $("emit-result").textContent = res.ok ? `stored as ${body.id}` : `${res.status}: ${body.error ?? ""}`;
});

poll();
setInterval(poll, 1000);
