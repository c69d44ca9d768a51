#!/usr/bin/env python3
"""One configuration vocabulary, as the README's table documents it:
  1. the table lists exactly the flags `forrealtime serve --help` has (no undocumented option,
     no documented option that does not exist), and each row's environment name and config key
     are the flag's name respelled (FORREALTIME_MAX_DURATION, max_duration);
  2. every documented environment name, config key and flag takes effect: each is set alone to
     a value unlike the default, and `forrealtime print-config` must show that value under the
     config key (secrets as ***);
  3. the older names (HOST, PORT, REDIS_URL, DATABASE_URL, LOG_LEVEL, LOG_FORMAT, and the older
     config keys) still take effect, each with a deprecation warning naming the new one;
  4. the client commands' names take effect: FORREALTIME_URL (emit, history, admin),
     FORREALTIME_EMIT_TOKEN (emit) and FORREALTIME_ADMIN_TOKEN (admin) against a real gateway.
Usage: vocabulary_check.py BIN README"""
import json
import os
import re
import subprocess
import sys
import tempfile

bin_, readme = sys.argv[1], sys.argv[2]
errors = []
tmp = tempfile.mkdtemp()

# A value unlike the default for each option: (text for the flag and the environment,
# the JSON value for the config file, what print-config must show).
VALUES = {
    "host": ("0.0.0.0", "0.0.0.0", "0.0.0.0"),
    "port": ("9123", 9123, 9123),
    "threads": ("3", 3, 3),
    "static": (tmp, tmp, tmp),
    "redis": ("redis://u:pw@db:6380/1", "redis://u:pw@db:6380/1", "redis://u:***@db:6380/1"),
    "key-prefix": ("app:", "app:", "app:"),
    "redis-tail-wakeup": ("blocking", "blocking", "blocking"),
    "redis-tail-batch": ("64", 64, 64),
    "redis-tls-ca": ("/etc/ca.pem", "/etc/ca.pem", "/etc/ca.pem"),
    "redis-tls-cert": ("/etc/rc.pem", "/etc/rc.pem", "/etc/rc.pem"),
    "redis-tls-key": ("/etc/rk.key", "/etc/rk.key", "/etc/rk.key"),
    "redis-tls-insecure-skip-verify": ("true", True, True),
    "redis-sentinel-user": ("sentinel-gw", "sentinel-gw", "sentinel-gw"),
    "redis-sentinel-password": ("sentinel-secret", "sentinel-secret", "***"),
    "redis-wait-replicas": ("2", 2, 2),
    "redis-wait-timeout": ("250", 250, 250),
    "memory-max-length": ("77", 77, 77),
    "memory-max-channels": ("78", 78, 78),
    "memory-max-bytes": ("79000", 79000, 79000),
    "memory-idle-expire-secs": ("80", 80, 80),
    "history-max-length": ("81", 81, 81),
    "history-expire-secs": ("82", 82, 82),
    "idempotency-window": ("83", 83, 83),
    "max-duration": ("84", 84, 84),
    "ping-interval": ("2.5", 2.5, 2.5),
    "max-channels": ("85", 85, 85),
    "max-body": ("86000", 86000, 86000),
    "emit-token": ("emit-secret", "emit-secret", "***"),
    "allow-origin": ("https://a.example", "https://a.example", "https://a.example"),
    "schema": ("/srv/events.json", "/srv/events.json", "/srv/events.json"),
    "strict": ("false", False, False),
    "database-url": ("postgresql://u:pw@db/app", "postgresql://u:pw@db/app", "postgresql://u:***@db/app"),
    "postgres": ('{"url":"postgresql://db/app","tables":["posts"]}', {"url": "postgresql://db/app", "tables": ["posts"]},
                 {"url": "postgresql://db/app", "tables": ["posts"]}),
    "admin-token": ("admin-secret", "admin-secret", "***"),
    "drain-delay": ("1.5", 1.5, 1.5),
    "admin-port": ("9124", 9124, 9124),
    "admin-host": ("0.0.0.0", "0.0.0.0", "0.0.0.0"),
    "public-channels": ("news,public:*", ["news", "public:*"], ["news", "public:*"]),
    "jwt-secret-file": ("/etc/s", "/etc/s", "/etc/s"),
    "jwt-public-key-file": ("/etc/k.pem", "/etc/k.pem", "/etc/k.pem"),
    "jwks-file": ("/etc/j.json", "/etc/j.json", "/etc/j.json"),
    "jwt-audience": ("realtime", "realtime", "realtime"),
    "jwt-issuer": ("https://id.example", "https://id.example", "https://id.example"),
    "jwt-cookie": ("tok", "tok", "tok"),
    "jwt-leeway": ("5", 5, 5),
    "auth-url": ("http://127.0.0.1:3001/auth", "http://127.0.0.1:3001/auth", "http://127.0.0.1:3001/auth"),
    "auth-timeout": ("2.5", 2.5, 2.5),
    "cors-origin": ("https://a.example", ["https://a.example"], ["https://a.example"]),
    "jwks-url": ("https://id.example/jwks.json", "https://id.example/jwks.json", "https://id.example/jwks.json"),
    "jwks-refresh": ("120", 120, 120),
    "tls-cert": ("/etc/c.pem", "/etc/c.pem", "/etc/c.pem"),
    "tls-key": ("/etc/k.key", "/etc/k.key", "/etc/k.key"),
    "header-timeout": ("20", 20, 20),
    "max-connections": ("500", 500, 500),
    "max-connections-per-ip": ("50", 50, 50),
    "trusted-proxies": ("10.0.0.0/8,loopback", ["10.0.0.0/8", "loopback"], ["10.0.0.0/8", "loopback"]),
    "client-address-header": ("forwarded", "forwarded", "forwarded"),
    "emit-rate": ("2.5", 2.5, 2.5),
    "emit-burst": ("5", 5, 5),
    "max-history-bytes": ("4096", 4096, 4096),
    "max-replay-bytes": ("65536", 65536, 65536),
    "log-level": ("debug", "debug", "debug"),
    "log-format": ("json", "json", "json"),
}
# Flags that take no value (on when given).
BARE_FLAGS = {"redis-tls-insecure-skip-verify"}
# The older names and what they set.
OLD_ENV = {"HOST": "host", "PORT": "port", "REDIS_URL": "redis", "DATABASE_URL": "database-url",
           "LOG_LEVEL": "log-level", "LOG_FORMAT": "log-format"}
OLD_KEYS = {"history": {"max_length": "history-max-length", "expire_after_secs": "history-expire-secs"},
            "memory": {"max_length": "memory-max-length", "max_channels": "memory-max-channels",
                       "max_bytes": "memory-max-bytes", "idle_expire_secs": "memory-idle-expire-secs"},
            "idempotency_window_secs": "idempotency-window", "max_duration_secs": "max-duration",
            "ping_interval_secs": "ping-interval", "max_body_bytes": "max-body",
            "drain_delay_secs": "drain-delay", "jwt_leeway_secs": "jwt-leeway",
            "auth_timeout_secs": "auth-timeout", "cors_origins": "cors-origin"}


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FORREALTIME_") and k not in OLD_ENV}
    return env


def print_config(args=(), env=None):
    p = subprocess.run([bin_, "print-config", *args], capture_output=True, text=True,
                       env={**clean_env(), **(env or {})}, timeout=20)
    if p.returncode != 0:
        return None, p.stderr
    return json.loads(p.stdout), p.stderr


def key(name):
    return name.replace("-", "_")


def env(name):
    return "FORREALTIME_" + name.upper().replace("-", "_")


# --- 1. the table against the program ------------------------------------------------------------
text = open(readme, encoding="utf-8").read()
section = text.split("### Configuration: one name per option", 1)
if len(section) != 2:
    sys.exit("README has no section 'Configuration: one name per option'")
rows = [l for l in section[1].split("\n\n| flag |", 1)[1].split("\n\n", 1)[0].splitlines()
        if l.startswith("| `--")]
table = {}
for row in rows:
    cells = [c.strip() for c in row.strip("|").split("|")]
    flag = re.match(r"`--([a-z-]+)`", cells[0]).group(1)
    table[flag] = (cells[1].strip("`"), cells[2].strip("`"))
help_text = subprocess.run([bin_, "serve", "--help"], capture_output=True, text=True).stdout
flags = set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z-]+)", help_text, re.M)) - {"help", "no-strict"}
if set(table) != flags:
    errors.append(f"README table and `serve --help` differ: only in the table {sorted(set(table) - flags)}, "
                  f"only in --help {sorted(flags - set(table))}")
for flag, (e, k) in table.items():
    if e != env(flag):
        errors.append(f"--{flag}: the table's environment name {e} is not {env(flag)}")
    if flag != "config" and k != key(flag):
        errors.append(f"--{flag}: the table's config key {k} is not {key(flag)}")
    if flag not in VALUES and flag != "config":
        errors.append(f"--{flag}: this test has no value for it (add one to VALUES)")
if len(table) < 40:
    errors.append(f"only {len(table)} rows read from the README table")

# --- 2. every documented name takes effect ---------------------------------------------------------
defaults, _ = print_config()
checked = 0
for flag, (e, k) in table.items():
    if flag == "config":
        continue
    text_value, json_value, shown = VALUES[flag]
    if defaults.get(k) == shown:
        errors.append(f"--{flag}: the test value equals the default ({shown!r})")
    # the environment
    got, err = print_config(env={e: text_value})
    if got is None or got.get(k) != shown:
        errors.append(f"{e}={text_value} does not take effect: {k} is {None if got is None else got.get(k)!r} ({err.strip()})")
    # the config file
    path = os.path.join(tmp, f"{k}.json")
    with open(path, "w") as f:
        json.dump({k: json_value}, f)
    got, err = print_config(["--config", path])
    if got is None or got.get(k) != shown:
        errors.append(f"config key {k} does not take effect: {None if got is None else got.get(k)!r} ({err.strip()})")
    if "deprecated" in err:
        errors.append(f"config key {k} is reported deprecated: {err.strip()}")
    # the flag
    args = (["--no-strict"] if flag == "strict" else [f"--{flag}"] if flag in BARE_FLAGS
            else [f"--{flag}", text_value])
    got, err = print_config(args)
    if got is None or got.get(k) != shown:
        errors.append(f"--{flag} does not take effect: {None if got is None else got.get(k)!r} ({err.strip()})")
    checked += 1

# FORREALTIME_CONFIG names the file.
path = os.path.join(tmp, "c.json")
with open(path, "w") as f:
    json.dump({"port": 9555}, f)
got, err = print_config(env={"FORREALTIME_CONFIG": path})
if got is None or got.get("port") != 9555:
    errors.append(f"FORREALTIME_CONFIG does not take effect ({err.strip()})")

# Precedence: flag over environment over file.
got, _ = print_config(["--config", path, "--port", "9557"], env={"FORREALTIME_PORT": "9556"})
if got is None or got["port"] != 9557:
    errors.append(f"a flag does not win over the environment and the file: {got and got['port']}")
got, _ = print_config(["--config", path], env={"FORREALTIME_PORT": "9556"})
if got is None or got["port"] != 9556:
    errors.append(f"the environment does not win over the file: {got and got['port']}")

# --- 3. the older names -----------------------------------------------------------------------------
for old, flag in OLD_ENV.items():
    text_value, _, shown = VALUES[flag]
    got, err = print_config(env={old: text_value})
    if got is None or got.get(key(flag)) != shown:
        errors.append(f"the older {old} no longer takes effect")
    if f"{old} is deprecated: use {env(flag)}" not in err:
        errors.append(f"{old} gives no deprecation warning: {err.strip()!r}")
got, err = print_config(env={"PORT": "9001", "FORREALTIME_PORT": "9002"})
if got is None or got["port"] != 9002 or "PORT is ignored" not in err:
    errors.append(f"FORREALTIME_PORT does not win over PORT with a warning: {got and got['port']} {err!r}")


def old_entries():
    for k, v in OLD_KEYS.items():
        if isinstance(v, dict):
            for sub, flag in v.items():
                yield f"{k}.{sub}", {k: {sub: VALUES[flag][1]}}, flag
        else:
            yield k, {k: VALUES[v][1]}, v


for name, doc, flag in old_entries():
    path = os.path.join(tmp, "old.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    got, err = print_config(["--config", path])
    if got is None or got.get(key(flag)) != VALUES[flag][2]:
        errors.append(f"the older config key {name} no longer takes effect ({err.strip()})")
    if f"config key {name} is deprecated: use {key(flag)}" not in err:
        errors.append(f"the older config key {name} gives no deprecation warning: {err.strip()!r}")

# serve logs the warning too (a real start with the older PORT).
p = subprocess.Popen([bin_, "serve", "--log-level", "warn"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True, env={**clean_env(), "PORT": "0"})
line = p.stdout.readline()
p.terminate()
_, serve_err = p.communicate(timeout=20)
if "listening on" not in line or "PORT is deprecated: use FORREALTIME_PORT" not in serve_err:
    errors.append(f"serve with PORT set does not log the deprecation: {line!r} {serve_err[-500:]!r}")

# --- 4. the client commands' environment names ------------------------------------------------------
# FORREALTIME_URL (emit, history, tail, admin), FORREALTIME_EMIT_TOKEN (emit --token) and
# FORREALTIME_ADMIN_TOKEN (admin --token), against a real gateway with both tokens set.
p = subprocess.Popen([bin_, "serve", "--port", "0", "--log-level", "warn", "--emit-token", "e-tok",
                      "--admin-token", "a-tok"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     text=True, env=clean_env())
try:
    url = p.stdout.readline().strip().split("listening on ")[-1]
    def client(args, **extra):
        r = subprocess.run([bin_, *args, "--timeout", "3"], capture_output=True, text=True, timeout=30,
                           env={**clean_env(), **extra})
        return r.returncode, r.stdout + r.stderr
    # The gateway is on a free port, not the default 8787: a command that ignores
    # FORREALTIME_URL does not reach it.
    for args, extra, want_rc, what in [
        (["emit", "vocab", "a.b", "1"], {"FORREALTIME_URL": url, "FORREALTIME_EMIT_TOKEN": "e-tok"}, 0,
         "emit with FORREALTIME_URL and FORREALTIME_EMIT_TOKEN"),
        (["emit", "vocab", "a.b", "2"], {"FORREALTIME_URL": url}, None, "emit without FORREALTIME_EMIT_TOKEN (401)"),
        (["history", "vocab"], {"FORREALTIME_URL": url}, 0, "history with FORREALTIME_URL"),
        (["admin", "stats"], {"FORREALTIME_URL": url, "FORREALTIME_ADMIN_TOKEN": "a-tok"}, 0,
         "admin with FORREALTIME_URL and FORREALTIME_ADMIN_TOKEN"),
        (["admin", "stats"], {"FORREALTIME_URL": url}, None, "admin without FORREALTIME_ADMIN_TOKEN (401)"),
    ]:
        rc, out = client(args, **extra)
        ok = rc == 0 if want_rc == 0 else rc != 0
        if not ok:
            errors.append(f"{what}: exit {rc}: {out.strip()[:300]}")
    rc, out = client(["history", "vocab"], FORREALTIME_URL=url)
    if out.count('"a.b"') != 1:
        errors.append(f"history through FORREALTIME_URL shows {out.count(chr(34) + 'a.b' + chr(34))} events, expected the one emitted with the token: {out[:300]}")
finally:
    p.terminate()
    p.wait(timeout=20)

if errors:
    print("vocabulary check FAILED:\n  " + "\n  ".join(errors))
    sys.exit(1)
print(f"vocabulary check: {len(table)} options in the README, {checked} set through their environment "
      f"name, config key and flag; {len(OLD_ENV)} older environment names and "
      f"{sum(1 for _ in old_entries())} older config keys still work, with a warning")
