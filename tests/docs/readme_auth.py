#!/usr/bin/python3
"""README.md's "Securing the gateway" snippets, run as written against the real program.

The snippets are read from README.md's fenced blocks (README.md stays the one source): the
`forrealtime serve` command of the JWT example, the token minting functions for Node, Python
(PyJWT) and Go, and the forward-auth answers for Node (node:http), Python (Flask) and Go
(net/http). Each gets the few lines a reader adds around it (imports, a session lookup, a
main); nothing inside a snippet is changed. Then, against `forrealtime serve` on a free
loopback port configured as the README says:
  - each minted token subscribes, reads history and emits exactly what its grant says, and gets
    403 outside it (another user's channel, history or emit not granted); no token is 401;
  - each forward-auth service allows the session's user what the snippet says (its own
    channel, rooms but not emits to rooms), answers 401 without a session (the gateway passes
    it on), 403 outside, and never grants the operator endpoints (no {"admin": true}).
Uses Debian's python3 (python3-jwt, python3-flask), node and go (golang-go); one Go build.
Usage: readme_auth.py [FORREALTIME_BIN]   (default: $FORREALTIME_BIN, else build/release)"""
import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
bin_ = (sys.argv[1] if len(sys.argv) > 1 else
        os.environ.get("FORREALTIME_BIN", os.path.join(root, "build/release/src/cli/forrealtime")))
errors = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        errors.append(what)
        print("FAIL:", what, flush=True)


# --- the snippets, from README.md ---------------------------------------------------------------
readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
section = readme.split("\n## Securing the gateway\n", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"^```(\w+)\n(.*?)^```$", section, re.M | re.S)


def snippet(lang, marker):
    found = [body for l, body in blocks if l == lang and marker in body]
    if len(found) != 1:
        sys.exit(f"README.md, Securing the gateway: {len(found)} ```{lang} blocks with {marker!r} (want 1)")
    return found[0]


serve_sh = snippet("sh", "forrealtime serve --jwt-secret-file")
mint_js = snippet("js", "function realtimeToken")
mint_py = snippet("python", "def realtime_token")
mint_go = snippet("go", "func realtimeToken")
auth_js = snippet("js", "http.createServer")
auth_py = snippet("python", "@app.post")
auth_go = snippet("go", "http.HandleFunc")

tmp = tempfile.mkdtemp(prefix="readme-auth-")
procs = []


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def start_gateway(args):
    p = subprocess.Popen([bin_, "serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warn",
                          *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        sys.exit(f"the gateway did not start with {args}: {line!r} {p.stderr.read()}")
    return int(line.strip().rsplit(":", 1)[1].strip("/"))


def start_service(cmd, env=None):
    """Starts an auth service that prints its port on its first line of output."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, **(env or {})})
    procs.append(p)
    line = p.stdout.readline().strip()
    if not line.isdigit():
        p.kill()
        sys.exit(f"{cmd} did not start: {line!r} {p.stderr.read()}")
    return int(line)


def request(port, method, target, headers=None, body=None):
    """Status and body; for a stream (200 text/event-stream), the body up to `connected`."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, target, body=body, headers=headers or {})
    r = c.getresponse()
    if r.status == 200 and r.getheader("content-type", "").startswith("text/event-stream"):
        got = b""
        while b'"connected"' not in got:
            chunk = r.fp.readline()
            if not chunk:
                break
            got += chunk
        c.close()
        return r.status, got.decode(errors="replace")
    data = r.read().decode(errors="replace")
    c.close()
    return r.status, data


def subscribe(port, channel, headers):
    return request(port, "GET", f"/api/realtime?channel={channel}", headers)[0]


def history(port, channel, headers):
    return request(port, "GET", f"/api/history?channel={channel}", headers)[0]


def emit(port, channel, headers):
    body = json.dumps({"channel": channel, "event": "t.e", "data": {"n": 1}})
    return request(port, "POST", "/api/emit", {**headers, "Content-Type": "application/json"}, body)[0]


try:
    # --- the gateway of the JWT example, as the README starts it --------------------------------
    secret = os.path.join(tmp, "jwt-secret")
    cmd = serve_sh.replace("/etc/forrealtime/jwt-secret", secret)
    lines = cmd.replace("\\\n", " ").splitlines()
    # The secret: the README's command, as written (only the path changed).
    make_secret = [l for l in lines if "/dev/urandom" in l]
    check(len(make_secret) == 1, "the JWT example makes its secret with one command")
    subprocess.run(["bash", "-c", make_secret[0]], check=True)
    serve_line = [l for l in lines if "forrealtime serve" in l][0]
    serve_args = shlex.split(serve_line.split("forrealtime serve", 1)[1])
    jwt_port = start_gateway(serve_args)

    # --- minting: each snippet with what a reader adds around it ---------------------------------
    mint_js_path = write("mint.mjs", mint_js + """
import { readFileSync } from "node:fs";
console.log(realtimeToken(process.argv[3], readFileSync(process.argv[2], "utf8").trimEnd()));
""")
    mint_py_path = write("mint.py", mint_py + """
import sys
print(realtime_token(sys.argv[2], open(sys.argv[1], "rb").read().rstrip()))
""")
    go_dir = os.path.join(tmp, "go")
    os.makedirs(go_dir)
    # One Go program for both Go snippets (one build): `mint SECRET USER` or `serve`.
    go_src = """package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

type User struct{ ID string }

// Your cookie check: the session cookie's value names a user.
func sessionUser(r *http.Request) (User, bool) {
	c, err := r.Cookie("session")
	if err != nil || c.Value != "s-alice" {
		return User{}, false
	}
	return User{ID: "alice"}, true
}

""" + mint_go + """
func main() {
	if os.Args[1] == "mint" {
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			panic(err)
		}
		fmt.Println(realtimeToken(os.Args[3], bytes.TrimSpace(b)))
		return
	}
""" + auth_go + """
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	http.Serve(l, nil)
}
"""
    write("go/main.go", go_src)
    go_bin = os.path.join(go_dir, "snippets")
    started = time.time()
    b = subprocess.run(["go", "build", "-o", go_bin, "main.go"], cwd=go_dir, capture_output=True,
                       text=True, env={**os.environ, "GOCACHE": os.path.join(tmp, "gocache"),
                                       "GOPATH": os.path.join(tmp, "gopath"), "GO111MODULE": "off",
                                       "GOFLAGS": ""})
    if b.returncode != 0:
        sys.exit(f"the Go snippets do not build:\n{b.stderr}\n--- main.go:\n{go_src}")
    print(f"go build: {time.time() - started:.1f}s", flush=True)

    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
    minters = {
        "Node": ["node", mint_js_path, secret],
        "Python": [python, mint_py_path, secret],
        "Go": [go_bin, "mint", secret],
    }
    # What each README snippet grants (its `realtime` claim): (subscribe, history, emit) on
    # room:1 and on the user's own channel; nobody gets another user's channel.
    grants = {
        # subscribe room:* and user:{sub}; history room:*; emit user:{sub}
        "Node": {"sub": (True, True), "history": (True, False), "emit": (False, True)},
        # subscribe room:* and user:{sub}; history defaults to subscribe; emit: []
        "Python": {"sub": (True, True), "history": (True, True), "emit": (False, False)},
        # subscribe room:* and user:{sub}; history defaults to subscribe; no emit
        "Go": {"sub": (True, True), "history": (True, True), "emit": (False, False)},
    }
    check(subscribe(jwt_port, "room:1", {}) == 401, "JWT gateway: no token is 401")
    check(subscribe(jwt_port, "news", {}) == 200, "JWT gateway: --public-channels news is open")
    for lang, cmd in minters.items():
        r = subprocess.run(cmd + ["alice"], capture_output=True, text=True, timeout=30)
        token = r.stdout.strip()
        check(r.returncode == 0 and token.count(".") == 2, f"{lang} mints a token: {r.stderr}")
        h = {"Authorization": "Bearer " + token}
        g = grants[lang]
        want = lambda ok: 200 if ok else 403
        for i, ch in enumerate(["room:1", "user:alice"]):
            got = subscribe(jwt_port, ch, h)
            check(got == want(g["sub"][i]), f"{lang} token: subscribe {ch} is {got}")
            got = history(jwt_port, ch, h)
            check(got == want(g["history"][i]), f"{lang} token: history {ch} is {got}")
            got = emit(jwt_port, ch, h)
            check(got == want(g["emit"][i]), f"{lang} token: emit {ch} is {got}")
        for op in (subscribe, history, emit):
            got = op(jwt_port, "user:bob", h)
            check(got == 403, f"{lang} token: {op.__name__} user:bob is {got} (want 403)")
        # The token in the query, as EventSource sends it.
        got = request(jwt_port, "GET", f"/api/realtime?channel=user:alice&token={token}")[0]
        check(got == 200, f"{lang} token in the query: subscribe user:alice is {got}")
        # A token of another secret is refused.
        bad = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        got = subscribe(jwt_port, "room:1", {"Authorization": "Bearer " + bad})
        check(got == 401, f"{lang} token with a wrong signature: {got} (want 401)")

    # --- forward auth: each snippet as the gateway's --auth-url ---------------------------------
    auth_js_path = write("auth.mjs", """import realHttp from "node:http";
// Your session store: the session cookie's value names a user.
const users = { "s-alice": { id: "alice" } };
async function sessions(cookie) {
  const m = /(?:^|;\\s*)session=([^;]*)/.exec(cookie || "");
  return m ? users[m[1]] : undefined;
}
// node:http, with listen() on a free port that is then printed (the snippet says 3001).
const http = {
  createServer(handler) {
    const s = realHttp.createServer(handler);
    const listen = s.listen.bind(s);
    s.listen = () => listen(0, "127.0.0.1", () => console.log(s.address().port));
    return s;
  },
};
""" + auth_js)
    auth_py_path = write("auth.py", """from flask import Flask, request
from werkzeug.serving import make_server

app = Flask(__name__)

class User:
    def __init__(self, id):
        self.id = id

# Your session lookup: the session cookie's value names a user.
def session_user(value):
    return User("alice") if value == "s-alice" else None

""" + auth_py + """
server = make_server("127.0.0.1", 0, app)
print(server.server_port, flush=True)
server.serve_forever()
""")
    services = {
        "Node": (["node", auth_js_path], "/"),
        "Python": ([python, auth_py_path], "/realtime-auth"),
        "Go": ([go_bin, "serve"], "/realtime-auth"),
    }
    for lang, (cmd, path) in services.items():
        sport = start_service(cmd)
        port = start_gateway(["--auth-url", f"http://127.0.0.1:{sport}{path}", "--public-channels", "news"])
        alice = {"Cookie": "session=s-alice"}
        # Without a session: the service's 401 is the client's.
        got = subscribe(port, "room:1", {})
        check(got == 401, f"{lang} forward auth: no session, subscribe room:1 is {got} (want 401)")
        got = subscribe(port, "room:1", {"Cookie": "session=nobody"})
        check(got == 401, f"{lang} forward auth: unknown session is {got} (want 401)")
        check(subscribe(port, "news", {}) == 200, f"{lang} forward auth: public news is open")
        # The user: rooms and its own channel to read, its own channel only to emit.
        for ch, sub_ok, emit_ok in [("room:1", True, False), ("user:alice", True, True),
                                    ("user:bob", False, False)]:
            want = lambda ok: 200 if ok else 403
            got = subscribe(port, ch, alice)
            check(got == want(sub_ok), f"{lang} forward auth: subscribe {ch} is {got}")
            got = history(port, ch, alice)
            check(got == want(sub_ok), f"{lang} forward auth: history {ch} is {got}")
            got = emit(port, ch, alice)
            check(got == want(emit_ok), f"{lang} forward auth: emit {ch} is {got}")
        got = request(port, "GET", "/api/realtime?channel=room:1&channel=user:bob", alice)[0]
        check(got == 403, f"{lang} forward auth: room:1 with user:bob is {got} (want 403)")
        # The operator endpoints need {"admin": true}, which the snippet never says.
        got = request(port, "GET", "/metrics", alice)[0]
        check(got == 403, f"{lang} forward auth: /metrics for a user is {got} (want 403)")
finally:
    for p in procs:
        p.kill()
        p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

if errors:
    print(f"{len(errors)} of {checks} checks failed")
    sys.exit(1)
print(f"README auth snippets: {checks} checks passed")
