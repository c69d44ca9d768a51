#!/usr/bin/env python3
"""/livez and /readyz on the real program:
  1. with a real redis-server: both 200; redis-server stopped -> /readyz 503 (store), /livez
     still 200; redis-server back on the same port -> /readyz 200 again;
  2. SIGTERM: /readyz answers 503 (draining) at once while /livez stays 200 and open streams
     keep flowing for the drain delay; then every stream gets `reconnect` and the process exits 0.
Usage: health_check.py BIN"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

bin_ = sys.argv[1]
errors = []

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def get(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)

def wait_for(cond, secs, what):
    deadline = time.time() + secs
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    errors.append(f"timed out after {secs}s waiting for {what}")
    return False

def start_gateway(*args):
    p = subprocess.Popen([bin_, "serve", "--port", "0", "--log-level", "warn", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        sys.exit(f"the gateway did not start: {line!r} {p.stderr.read()}")
    return p, line.strip().split("listening on ")[1]

def start_redis(port, dir_):
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", dir_], stdout=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() == b"PONG",
             10, "redis-server to answer")
    return p

# --- 1. Redis down and back ------------------------------------------------------------------------
if shutil.which("redis-server"):
    rdir = tempfile.mkdtemp()
    rport = free_port()
    redis = start_redis(rport, rdir)
    gw, base = start_gateway("--redis", f"redis://127.0.0.1:{rport}")
    try:
        wait_for(lambda: get(base, "/readyz")[0] == 200, 10, "/readyz 200 with Redis up")
        if get(base, "/livez")[0] != 200:
            errors.append("/livez is not 200 with Redis up")
        redis.terminate()
        redis.wait(timeout=10)
        if wait_for(lambda: get(base, "/readyz")[0] == 503, 15, "/readyz 503 with Redis stopped"):
            st, body = get(base, "/readyz")
            if "store" not in body:
                errors.append(f"/readyz 503 does not say the store is the reason: {body}")
        st, body = get(base, "/livez")
        if st != 200:
            errors.append(f"/livez answered {st} while only Redis is down: liveness must not follow the store")
        redis = start_redis(rport, rdir)
        wait_for(lambda: get(base, "/readyz")[0] == 200, 20, "/readyz 200 after Redis came back")
        print("redis down/up: ok" if not errors else "redis down/up: FAILED")
    finally:
        gw.terminate()
        gw.wait(timeout=15)
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(rdir, ignore_errors=True)
else:
    errors.append("redis-server is not installed")

# --- 2. draining -------------------------------------------------------------------------------------
gw, base = start_gateway("--drain-delay", "1.5")
host, port = base[len("http://"):].split(":")
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /api/realtime?channel=drain HTTP/1.1\r\nHost: x\r\n\r\n")
received = []
def reader():
    while True:
        try:
            d = s.recv(65536)
        except OSError:
            return
        if not d:
            received.append(b"<EOF>")
            return
        received.append(d)
threading.Thread(target=reader, daemon=True).start()
wait_for(lambda: b'"connected"' in b"".join(received), 5, "the stream to connect")
if get(base, "/readyz")[0] != 200:
    errors.append("/readyz is not 200 before SIGTERM")
t0 = time.time()
gw.send_signal(signal.SIGTERM)
wait_for(lambda: get(base, "/readyz")[0] == 503, 1, "/readyz 503 right after SIGTERM")
st, body = get(base, "/readyz")
if st == 503 and "draining" not in body:
    errors.append(f"/readyz while draining does not say so: {body}")
if get(base, "/livez")[0] != 200:
    errors.append("/livez is not 200 while draining")
# Streams still flow during the delay.
st, _ = get(base, "/api/history?channel=drain")
req = urllib.request.Request(base + "/api/emit", method="POST",
                             data=json.dumps({"channel": "drain", "event": "t.during", "data": 1}).encode())
try:
    urllib.request.urlopen(req, timeout=3).read()
except Exception as e:
    errors.append(f"emit while draining failed: {e}")
wait_for(lambda: b"t.during" in b"".join(received), 1, "an event delivered during the drain delay")
if b"reconnect" in b"".join(received):
    errors.append("`reconnect` came before the drain delay")
rc = gw.wait(timeout=15)
elapsed = time.time() - t0
wait_for(lambda: b"<EOF>" in received, 3, "the stream to end")
data = b"".join(received)
if b'"reconnect"' not in data:
    errors.append("the stream did not get `reconnect`")
if rc != 0:
    errors.append(f"exit code {rc} after SIGTERM")
if elapsed < 1.4:
    errors.append(f"exited {elapsed:.2f}s after SIGTERM, before the 1.5 s drain delay")
print(f"drain: readyz 503 at once, exit {rc} after {elapsed:.2f}s")

if errors:
    print("health check FAILED:\n  " + "\n  ".join(errors))
    sys.exit(1)
print("health check: all passed")
