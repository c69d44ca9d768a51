#!/usr/bin/env python3
"""The admin API and `forrealtime admin` on the real program (memory store):
  - the admin token: 401 without it, on the API and the CLI;
  - channels with local subscriber counts; one channel's length, first and last id;
  - closing a channel ends exactly its streams with `reconnect` (others keep going);
  - `--admin-port`: /metrics, the console and the admin API move to the admin listener (404 on
    the main one), the probes answer on both, the data API stays on the main one.
Usage: admin_check.py BIN"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

bin_ = sys.argv[1]
TOKEN = "admin-secret"
errors = []

def start(*args):
    p = subprocess.Popen([bin_, "serve", "--port", "0", "--log-level", "warn", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    urls = []
    for _ in range(2 if "--admin-port" in args else 1):
        m = re.search(r"(http://\S+)", p.stdout.readline())
        urls.append(m.group(1))
    return p, urls

def call(base, method, path, body=None, token=None):
    h = {"authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(base + path, method=method, data=body, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        errors.append(what)

class Stream:
    def __init__(self, base, channel):
        host, port = base[7:].split(":")
        self.s = socket.create_connection((host, int(port)))
        self.s.sendall(f"GET /api/realtime?channel={channel} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.data = b""
        self.ended = False
        threading.Thread(target=self.read, daemon=True).start()
    def read(self):
        while True:
            try:
                d = self.s.recv(65536)
            except OSError:
                break
            if not d:
                break
            self.data += d
        self.ended = True

def wait(cond, secs=5):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False

gw, (base,) = start("--admin-token", TOKEN)
try:
    a1, a2, b = Stream(base, "room:a"), Stream(base, "room:a"), Stream(base, "room:b")
    expect(wait(lambda: all(b'"connected"' in s.data for s in (a1, a2, b))), "three streams connected")
    ids = []
    for i in range(3):
        st, body = call(base, "POST", "/api/emit", json.dumps({"channel": "room:a", "event": "t.x", "data": i}).encode())
        ids.append(json.loads(body)["id"])
    st, _ = call(base, "GET", "/api/admin/channels")
    expect(st == 401, f"no token: 401 (got {st})")
    st, _ = call(base, "GET", "/api/admin/channels", token="wrong")
    expect(st == 401, f"a wrong token: 401 (got {st})")
    st, body = call(base, "GET", "/api/admin/channels", token=TOKEN)
    chans = {c["channel"]: c["subscribers"] for c in json.loads(body)["channels"]} if st == 200 else {}
    expect(chans == {"room:a": 2, "room:b": 1}, f"channels with subscriber counts: {chans}")
    st, body = call(base, "GET", "/api/admin/channel?channel=room:a", token=TOKEN)
    info = json.loads(body) if st == 200 else {}
    expect(info.get("length") == 3 and info.get("first_id") == ids[0] and info.get("last_id") == ids[2]
           and info.get("subscribers") == 2, f"one channel: {info} (ids {ids})")
    st, body = call(base, "GET", "/api/admin/channel?channel=", token=TOKEN)
    expect(st == 400, f"an empty channel name: 400 (got {st} {body})")
    st, body = call(base, "GET", "/api/admin/channel/close?channel=room:a", token=TOKEN)
    expect(st == 405, f"close with GET: 405 (got {st})")
    env = dict(os.environ, FORREALTIME_ADMIN_TOKEN=TOKEN)
    out = subprocess.run([bin_, "admin", "channels", "--url", base], capture_output=True, text=True, env=env)
    expect(out.returncode == 0 and re.search(r"2\s+room:a", out.stdout) is not None, f"CLI channels: {out.stdout!r}")
    out = subprocess.run([bin_, "admin", "channel", "room:a", "--url", base], capture_output=True, text=True, env=env)
    expect(out.returncode == 0 and f"last_id: {ids[2]}" in out.stdout, f"CLI channel: {out.stdout!r}")
    out = subprocess.run([bin_, "admin", "channels", "--url", base], capture_output=True, text=True)
    expect(out.returncode == 1 and "401" in out.stderr, f"CLI without the token: exit 1 with 401 ({out.returncode}, {out.stderr!r})")
    out = subprocess.run([bin_, "admin", "close", "room:a", "--url", base], capture_output=True, text=True, env=env)
    expect(out.returncode == 0 and "ended 2 stream(s)" in out.stdout, f"CLI close: {out.stdout!r} {out.stderr!r}")
    expect(wait(lambda: a1.ended and a2.ended), "room:a's streams ended")
    expect(b'"reconnect"' in a1.data and b'"reconnect"' in a2.data, "room:a's streams got `reconnect`")
    time.sleep(0.3)
    expect(not b.ended and b'"reconnect"' not in b.data, "room:b's stream goes on")
    st, body = call(base, "POST", "/api/admin/channel/close?channel=room:none", token=TOKEN)
    expect(st == 200 and json.loads(body) == {"closed": 0}, f"closing a channel nobody watches: {body}")
    out = subprocess.run([bin_, "admin", "stats", "--url", "http://127.0.0.1:1"], capture_output=True, text=True, env=env)
    expect(out.returncode == 2, f"CLI against nothing: exit 2 ({out.returncode})")
finally:
    gw.terminate()
    gw.wait(timeout=10)

gw, (base, admin) = start("--admin-port", "0")
try:
    expect(call(base, "GET", "/metrics")[0] == 404, "--admin-port: no /metrics on the main listener")
    expect(call(admin, "GET", "/metrics")[0] == 200, "--admin-port: /metrics on the admin listener")
    expect(call(base, "GET", "/api/admin/stats")[0] == 404, "--admin-port: no admin API on the main listener")
    expect(call(admin, "GET", "/api/admin/stats")[0] == 200, "--admin-port: the admin API on the admin listener")
    expect(call(admin, "GET", "/")[0] == 200 and call(base, "GET", "/")[0] == 404, "--admin-port: the console moves too")
    expect(call(admin, "POST", "/api/emit", b'{"event":"a.b","data":1}')[0] == 404, "--admin-port: no emit on the admin listener")
    expect(call(base, "POST", "/api/emit", b'{"event":"a.b","data":1}')[0] == 200, "--admin-port: emit on the main listener")
    for u in (base, admin):
        expect(call(u, "GET", "/livez")[0] == 200 and call(u, "GET", "/readyz")[0] == 200, f"probes on {u}")
finally:
    gw.terminate()
    gw.wait(timeout=10)

if errors:
    print(f"admin check: {len(errors)} FAILED")
    sys.exit(1)
print("admin check: all passed")
