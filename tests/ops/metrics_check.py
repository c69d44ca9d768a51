#!/usr/bin/env python3
"""/metrics against the Prometheus conventions and against the Grafana dashboard, on the real
program: starts `forrealtime serve` on a free port (memory store), holds a stream open, emits,
reads history, trips limits, then scrapes /metrics and checks
  - every family has HELP and TYPE, names are snake_case, counters end in _total, units are in
    the name (_seconds, _bytes), labels are well-formed;
  - histograms: buckets sorted by le, cumulative, +Inf equal to _count; the delivery and store
    latency histograms counted what the load did;
  - the metrics the issue asks for exist (build_info with the version, process metrics, ...);
  - every metric the dashboard (packaging/grafana/forrealtime-dashboard.json) queries is exposed.
Usage: metrics_check.py BIN REPO_ROOT"""
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

bin_, root = sys.argv[1], sys.argv[2]
version = re.search(r"project\(forrealtime VERSION ([0-9.]+)", open(f"{root}/CMakeLists.txt").read()).group(1)
errors = []
proc = subprocess.Popen([bin_, "serve", "--port", "0", "--max-channels", "3", "--max-body", "1000",
                         "--log-level", "warn"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    line = proc.stdout.readline()
    m = re.search(r"http://([0-9.]+):(\d+)", line)
    if not m:
        sys.exit(f"no 'listening on' line: {line!r}")
    host, port = m.group(1), int(m.group(2))
    base = f"http://{host}:{port}"

    def http(method, path, body=None, headers=None):
        req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    # A stream that receives what we emit.
    s = socket.create_connection((host, port))
    s.sendall(f"GET /api/realtime?channel=m1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    received = []
    def reader():
        while True:
            try:
                d = s.recv(65536)
            except OSError:
                return
            if not d:
                return
            received.append(d)
    threading.Thread(target=reader, daemon=True).start()
    time.sleep(0.3)
    for i in range(20):
        st, _ = http("POST", "/api/emit", json.dumps({"channel": "m1", "event": "t.x", "data": i}).encode())
        if st != 200:
            errors.append(f"emit answered {st}")
    http("GET", "/api/history?channel=m1")
    http("POST", "/api/emit", b"x" * 2000)                      # over --max-body
    http("GET", "/api/realtime?channel=a&channel=b&channel=c&channel=d")  # over --max-channels
    deadline = time.time() + 5
    while time.time() < deadline and b"".join(received).count(b'"t.x"') < 20:
        time.sleep(0.05)
    st, text = http("GET", "/metrics")
    if st != 200:
        sys.exit(f"/metrics answered {st}")
    s.close()
finally:
    proc.terminate()
    proc.wait(timeout=10)

# --- parse the exposition ------------------------------------------------------------------------
help_, type_, samples = {}, {}, []
name_re = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
for ln in text.splitlines():
    if not ln:
        continue
    if ln.startswith("# HELP "):
        n, _, h = ln[7:].partition(" ")
        help_[n] = h
    elif ln.startswith("# TYPE "):
        n, _, t = ln[7:].partition(" ")
        type_[n] = t
    elif ln.startswith("#"):
        continue
    else:
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', ln)
        if not m:
            errors.append(f"malformed sample line: {ln}")
            continue
        labels = {}
        if m.group(2):
            for part in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2)):
                labels[part[0]] = part[1]
        samples.append((m.group(1), labels, float(m.group(3))))

def family(n):
    for suf in ("_bucket", "_sum", "_count"):
        if n.endswith(suf) and type_.get(n[: -len(suf)]) == "histogram":
            return n[: -len(suf)]
    return n

exposed = {family(n) for n, _, _ in samples}
for f in exposed:
    if f not in type_:
        errors.append(f"{f}: no # TYPE")
    if f not in help_:
        errors.append(f"{f}: no # HELP")
    if not re.match(r"^[a-z][a-z0-9_]*$", f):
        errors.append(f"{f}: not snake_case")
    t = type_.get(f)
    if t == "counter" and not f.endswith("_total"):
        errors.append(f"{f}: a counter whose name does not end in _total")
    if t != "counter" and f.endswith("_total"):
        errors.append(f"{f}: ends in _total but is a {t}")
    if re.search(r"_(ms|millis|milliseconds|secs|kb|mb)(_|$)", f):
        errors.append(f"{f}: use base units (_seconds, _bytes)")
    if not (f.startswith("forrealtime_") or f.startswith("process_")):
        errors.append(f"{f}: neither forrealtime_ nor process_")

# histograms
for f, t in type_.items():
    if t != "histogram":
        continue
    series = {}
    for n, labels, v in samples:
        if family(n) != f:
            continue
        key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        series.setdefault(key, {"buckets": [], "count": None})
        if n.endswith("_bucket"):
            le = labels.get("le")
            series[key]["buckets"].append((float("inf") if le == "+Inf" else float(le), v))
        elif n.endswith("_count"):
            series[key]["count"] = v
    if not series:
        errors.append(f"{f}: a histogram without series")
    for key, s in series.items():
        b = s["buckets"]
        if [x for x, _ in b] != sorted(x for x, _ in b) or b[-1][0] != float("inf"):
            errors.append(f"{f}{key}: buckets not sorted or no +Inf")
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            errors.append(f"{f}{key}: buckets not cumulative")
        if s["count"] != b[-1][1]:
            errors.append(f"{f}{key}: _count {s['count']} != +Inf bucket {b[-1][1]}")

def value(n, **want):
    for sn, labels, v in samples:
        if sn == n and all(labels.get(k) == x for k, x in want.items()):
            return v
    return None

required = ["forrealtime_build_info", "forrealtime_streams", "forrealtime_connections",
            "forrealtime_events_emitted_total", "forrealtime_events_delivered_total",
            "forrealtime_http_requests_total", "forrealtime_delivery_latency_seconds",
            "forrealtime_store_operation_duration_seconds", "forrealtime_stream_queue_bytes",
            "forrealtime_slow_consumer_disconnects_total", "forrealtime_limits_hit_total",
            "forrealtime_store_reconnects_total", "forrealtime_store_healthy", "forrealtime_ready",
            "process_open_fds", "process_resident_memory_bytes", "process_cpu_seconds_total"]
for r in required:
    if r not in exposed:
        errors.append(f"missing metric {r}")
if value("forrealtime_build_info", version=version) != 1:
    errors.append(f"forrealtime_build_info{{version=\"{version}\"}} is not 1")
if (value("forrealtime_delivery_latency_seconds_count") or 0) < 20:
    errors.append("the delivery latency histogram did not count the 20 deliveries")
if (value("forrealtime_store_operation_duration_seconds_count", op="append") or 0) < 20:
    errors.append("the store latency histogram did not count the 20 appends")
if (value("forrealtime_events_emitted_total") or 0) < 20:
    errors.append("forrealtime_events_emitted_total < 20")
if (value("forrealtime_limits_hit_total", limit="body_size") or 0) < 1:
    errors.append("limits_hit_total{limit=\"body_size\"} did not count the oversized body")
if (value("forrealtime_limits_hit_total", limit="channels_per_stream") or 0) < 1:
    errors.append("limits_hit_total{limit=\"channels_per_stream\"} did not count the refused stream")
if (value("forrealtime_http_requests_total", route="emit", code="200") or 0) < 20:
    errors.append("http_requests_total{route=\"emit\",code=\"200\"} < 20")
if (value("process_open_fds") or 0) < 3:
    errors.append("process_open_fds looks wrong")

# --- the dashboard -------------------------------------------------------------------------------
dash = json.load(open(f"{root}/packaging/grafana/forrealtime-dashboard.json"))
used = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "query") and isinstance(v, str):
                for n in re.findall(r"\b((?:forrealtime|process)_[a-z0-9_]+)", v):
                    used.add(n)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
pg_only = {"forrealtime_postgres_sync_events_total", "forrealtime_postgres_sync_failed_total",
           "forrealtime_postgres_sync_reconnects_total", "forrealtime_postgres_sync_connected"}
for n in sorted(used):
    if family(n) in exposed or n in exposed:
        continue
    if n.endswith(("_bucket", "_sum", "_count")) and n.rsplit("_", 1)[0] in exposed:
        continue
    if n in pg_only:
        continue  # only with a postgres section; checked by the postgres gateway test
    errors.append(f"the dashboard queries {n}, which /metrics does not expose")
if not used:
    errors.append("the dashboard queries no metric")

if errors:
    print("metrics check FAILED:\n  " + "\n  ".join(errors))
    print(text[:3000])
    sys.exit(1)
print(f"metrics check: {len(exposed)} families, {len(samples)} samples, dashboard queries "
      f"{len(used)} metrics, all exposed")
