#!/usr/bin/env python3
"""`forrealtime healthcheck`, the container image's HEALTHCHECK, against the real program: the
probe goes where the gateway's effective settings say it listens, wherever the port was set.
  1. a port only in a config file given by a relative path (the gateway runs in another working
     directory), host 0.0.0.0: `--process PID` finds it (on loopback), even with a wrong
     FORREALTIME_PORT in the probe's own environment; `--config FILE` finds it too; a probe of
     another port fails;
  2. a port only in the gateway's environment, TLS on the main listener: `--process` probes
     https on that port; `--config FILE` alone (the config's port) fails;
  3. a port given as a flag after the config file (as `docker run IMAGE --port N` does) and a
     separate admin listener: `--process` probes /livez on the admin port; a frozen gateway
     (SIGSTOP) fails within --timeout; while draining (SIGTERM) --ready fails with 503 and
     /livez still passes;
  4. `--process` of an init whose child is the gateway (`docker run --init`) finds the child;
  5. `--process` of something that is not `forrealtime serve` fails and says so.
Usage: healthcheck_check.py BIN"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

bin_ = os.path.abspath(sys.argv[1])
errors = []
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FORREALTIME_") and k not in ("HOST", "PORT")}
    env.update(extra)
    return env


def start(args, cwd=None, env=None):
    p = subprocess.Popen([bin_, *args], cwd=cwd, env=env or clean_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        sys.exit(f"the gateway did not start ({args}): {line!r} {p.stderr.read()}")
    # Read what follows (the admin listener's line) so that the pipe never fills.
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGCONT)
        p.kill()
    p.wait(timeout=10)


def probe(*args, env=None, cwd=None):
    r = subprocess.run([bin_, "healthcheck", *args], env=env or clean_env(), cwd=cwd,
                       capture_output=True, text=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).strip()


def expect(what, got, rc, needle):
    code, out = got
    if code != rc or needle not in out:
        errors.append(f"{what}: exit {code} (expected {rc}), output {out!r} (expected to contain {needle!r})")
    else:
        print(f"ok: {what}: {out}")


tmp = tempfile.mkdtemp(prefix="forrealtime-healthcheck-")
elsewhere = tempfile.mkdtemp(prefix="forrealtime-healthcheck-cwd-")
try:
    cfg_port = free_port()
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump({"host": "0.0.0.0", "port": cfg_port, "log_level": "warn"}, f)

    # 1. The port in a config file, named by a path relative to the gateway's directory.
    gw = start(["serve", "--config", "config.json"], cwd=tmp)
    expect("1. --process, port from the relative config file, host 0.0.0.0",
           probe("--process", str(gw.pid), cwd=elsewhere), 0, f"http://127.0.0.1:{cfg_port}/livez: 200")
    expect("1. --process ignores the probe's own FORREALTIME_PORT",
           probe("--process", str(gw.pid), env=clean_env(FORREALTIME_PORT=str(free_port()))), 0,
           f":{cfg_port}/livez: 200")
    expect("1. --config FILE", probe("--config", cfg), 0, f":{cfg_port}/livez: 200")
    other = free_port()
    expect("1. another port fails", probe("--port", str(other)), 1, f"127.0.0.1:{other}/livez")
    expect("1. --ready", probe("--ready", "--config", cfg), 0, f":{cfg_port}/readyz: 200")
    stop(gw)
    expect("1. a stopped gateway fails", probe("--config", cfg), 1, "refused")

    # 2. The port in the gateway's environment only, TLS on the main listener.
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    env_port = free_port()
    gw = start(["serve", "--config", cfg, "--tls-cert", cert, "--tls-key", key],
               env=clean_env(FORREALTIME_PORT=str(env_port), FORREALTIME_HOST="127.0.0.1"))
    expect("2. --process, port from the gateway's environment, TLS",
           probe("--process", str(gw.pid)), 0, f"https://127.0.0.1:{env_port}/livez: 200")
    expect("2. --config alone does not know the environment's port", probe("--config", cfg), 1,
           f":{cfg_port}/livez")
    stop(gw)

    # 3. A flag after the config file, and an admin listener: the probes are there.
    flag_port, admin_port = free_port(), free_port()
    gw = start(["serve", "--config", cfg, "--host", "127.0.0.1", "--port", str(flag_port),
                "--admin-port", str(admin_port), "--drain-delay", "5"])
    expect("3. --process, port from a flag, probes on the admin listener",
           probe("--process", str(gw.pid)), 0, f"http://127.0.0.1:{admin_port}/livez: 200")
    expect("3. --config alone probes the config's port", probe("--config", cfg), 1, f":{cfg_port}/livez")
    gw.send_signal(signal.SIGSTOP)
    t0 = time.time()
    expect("3. a frozen gateway fails", probe("--process", str(gw.pid), "--timeout", "1"), 1,
           "no answer in 1 s")
    if time.time() - t0 > 5:
        errors.append(f"3. the probe of a frozen gateway took {time.time() - t0:.1f} s with --timeout 1")
    gw.send_signal(signal.SIGCONT)
    expect("3. thawed, it passes again", probe("--process", str(gw.pid)), 0, "/livez: 200")
    gw.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    expect("3. draining: --ready fails", probe("--process", str(gw.pid), "--ready"), 1, "/readyz: HTTP 503")
    expect("3. draining: /livez passes", probe("--process", str(gw.pid)), 0, "/livez: 200")
    stop(gw)

    # 4. An init in front (`docker run --init`: tini is PID 1, the gateway its child): a shell
    # that runs the gateway as a child.
    init_port = free_port()
    init = subprocess.Popen(["sh", "-c", f'"{bin_}" serve --port {init_port} --log-level warn; :'],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(init)
    if "listening on" not in init.stdout.readline():
        errors.append("4. the gateway under sh did not start")
    expect("4. --process of an init whose child is the gateway", probe("--process", str(init.pid)), 0,
           f"http://127.0.0.1:{init_port}/livez: 200")
    subprocess.run(["pkill", "-P", str(init.pid)])
    init.wait(timeout=10)

    # 5. Not a gateway.
    sleeper = subprocess.Popen(["sleep", "30"])
    procs.append(sleeper)
    expect("5. --process of `sleep`", probe("--process", str(sleeper.pid)), 1, "is not `forrealtime serve`")
    expect("5. --process of no process", probe("--process", "4194303"), 1, "no process 4194303")
finally:
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", tmp, elsewhere])

if errors:
    print("healthcheck: FAILED\n  " + "\n  ".join(errors))
    sys.exit(1)
print("healthcheck: the probe follows the config file, the environment and the flags of the running gateway")
