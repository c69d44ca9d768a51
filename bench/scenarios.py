#!/usr/bin/env python3
"""The benchmark scenarios: start each server fresh, drive it with forrealtime-loadgen, keep
the JSON of every run and write bench/RESULTS.md (medians over the repetitions).

Called by bench/run.sh, which installs the peers and builds the load generator first.
Everything listens on 127.0.0.1 on free ports, in a temporary directory; every server is
stopped (by its own pid) when its scenario ends, and every load generator run is bounded
by --max-time. Python standard library only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HISTORY = 1000  # history length every server keeps (ours, TS baseline, nchan buffer)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except Exception:
            time.sleep(0.1)
    return False


def children(pid: int) -> list[int]:
    try:
        out = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(x) for x in out]
    except OSError:
        return []


def fd_hard_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


# ------------------------------------------------------------------------------ servers


class Server:
    """A server under test. start() returns when it answers; stop() ends what it started."""

    name = ""
    title = ""
    ready = "event"        # what makes a subscriber count as subscribed
    emit_format = "json"
    batch = True           # POST /api/emit takes a JSON array
    replay = True          # understands last_ack_<channel>
    pipeline = False       # takes pipelined HTTP/1.1 requests (emits keep channel order)
    notes = ""

    def __init__(self, tmp: Path, loadgen_dir: Path):
        self.tmp = tmp
        self.loadgen_dir = loadgen_dir
        self.procs: list[subprocess.Popen] = []
        self.port = 0

    def spawn(self, args: list[str], log_name: str, **kw) -> subprocess.Popen:
        f = open(self.tmp / log_name, "ab")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()

    def sub_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/realtime?channel={{ch}}"

    def emit_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/emit"

    def pids(self) -> list[int]:
        return [self.procs[-1].pid]

    def aux_pids(self) -> list[int]:
        return []


def start_redis(server: Server) -> int:
    port = free_port()
    d = server.tmp / f"redis-{port}"
    d.mkdir()
    p = server.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", str(d), "--maxclients", "10000"], f"redis-{port}.log")
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def start_redis_cluster(server: Server, masters: int = 3) -> list[int]:
    """A Redis Cluster of `masters` masters (no replicas: the bench measures the data path);
    returns their ports. Their processes are the server's last `masters` ones."""
    ports = []
    for _ in range(masters):
        port, bus = free_port(), free_port()
        d = server.tmp / f"redis-{port}"
        d.mkdir()
        server.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", str(d), "--maxclients", "10000",
                      "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                      "--cluster-port", str(bus), "--cluster-node-timeout", "2000"],
                     f"redis-{port}.log")
        ports.append(port)
    for port in ports:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
    subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                    "--cluster-yes"], check=True, capture_output=True, timeout=60)
    for _ in range(200):
        states = [subprocess.run(["redis-cli", "-p", str(p), "cluster", "info"], capture_output=True,
                                 text=True).stdout for p in ports]
        if all("cluster_state:ok" in st for st in states):
            return ports
        time.sleep(0.05)
    raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")


_ours_copy: Path | None = None


def ours_binary() -> Path:
    """The gateway; a private copy once made, so that a rebuild during a run changes nothing."""
    if _ours_copy is not None:
        return _ours_copy
    return Path(os.environ.get("FORREALTIME_BIN", ROOT / "build/release/src/cli/forrealtime"))


_base_copy: Path | None = None


def base_binary() -> Path | None:
    """FORREALTIME_BASE_BIN: an earlier build of ours, measured beside the current one in the
    same rounds (servers `ours-base`, `ours-redis-base`), so "no slower than before" is one run."""
    if _base_copy is not None:
        return _base_copy
    b = os.environ.get("FORREALTIME_BASE_BIN")
    return Path(b) if b else None


_base2_copy: Path | None = None


def base2_binary() -> Path | None:
    """FORREALTIME_BASE2_BIN: a second earlier build (servers `ours-base2`, `ours-redis-base2`),
    so that a change is compared with two earlier commits in the same rounds."""
    if _base2_copy is not None:
        return _base2_copy
    b = os.environ.get("FORREALTIME_BASE2_BIN")
    return Path(b) if b else None


def ours_supports_redis() -> bool:
    b = ours_binary()
    if not b.exists():
        return False
    try:
        out = subprocess.run([str(b), "serve", "--help"], capture_output=True, text=True, timeout=10)
        return "--redis" in out.stdout + out.stderr
    except Exception:
        return False


class Ours(Server):
    name, title = "ours", "ours (memory)"
    notes = "`forrealtime serve --threads 2`, embedded memory store"
    use_redis = False
    cluster_masters = 0
    threads = 2
    extra_args: list[str] = []

    def binary(self) -> Path:
        return ours_binary()

    def start(self) -> None:
        self.port = free_port()
        args = [str(self.binary()), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--threads",
                str(self.threads), "--history-max-length", str(HISTORY), *self.extra_args]
        self.redis_pid = None
        self.redis_pids: list[int] = []
        if self.use_redis and self.cluster_masters:
            ports = start_redis_cluster(self, self.cluster_masters)
            self.redis_pids = [p.pid for p in self.procs[-self.cluster_masters:]]
            args += ["--redis", "redis-cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)]
        elif self.use_redis:
            rport = start_redis(self)
            self.redis_pid = self.procs[-1].pid
            args += ["--redis", f"redis://127.0.0.1:{rport}"]
        self.spawn(args, "ours.log")
        if not wait_http(f"http://127.0.0.1:{self.port}/healthz"):
            raise RuntimeError("our gateway did not answer /healthz; see " + str(self.tmp / "ours.log"))

    def aux_pids(self) -> list[int]:
        if self.redis_pids:
            return self.redis_pids
        return [self.redis_pid] if self.redis_pid else []


class OursRedis(Ours):
    name, title = "ours-redis", "ours (redis)"
    notes = "`forrealtime serve --threads 2 --redis`, CPU and RSS of redis-server reported apart"
    use_redis = True


class OursRedisCluster(OursRedis):
    name, title = "ours-redis-cluster", "ours (redis cluster, 3 masters)"
    notes = ("`forrealtime serve --threads 2 --redis redis-cluster://...` on a 3-master Redis Cluster "
             "(no replicas), CPU and RSS of the three redis-servers summed and reported apart")
    cluster_masters = 3


class TsBaseline(Server):
    name, title = "ts", "TS baseline"
    notes = ("forrealtime 0.1.13 on Bun (npm `bun`) with the ioredis adapter, `idleTimeout: 0`; "
             "redis-server CPU/RSS reported apart")

    def start(self) -> None:
        rport = start_redis(self)
        self.redis_pid = self.procs[-1].pid
        self.port = free_port()
        bun = BENCH / "baseline/node_modules/.bin/bun"
        env = dict(os.environ, PORT=str(self.port), REDIS_URL=f"redis://127.0.0.1:{rport}",
                   HISTORY_MAX_LENGTH=str(HISTORY))
        self.spawn([str(bun), "run", "server.ts"], "ts.log", cwd=BENCH / "baseline", env=env)
        if not wait_http(f"http://127.0.0.1:{self.port}/healthz"):
            raise RuntimeError("the TS baseline did not start; see " + str(self.tmp / "ts.log"))

    def aux_pids(self) -> list[int]:
        return [self.redis_pid]


class Nchan(Server):
    name, title = "nchan", "nchan"
    ready = "head"  # nchan's EventSource subscriber sends no event on connect
    emit_format = "raw"
    batch = False
    replay = False
    pipeline = True
    notes = "nginx + nchan (Debian), EventSource subscriber, 1 worker, message buffer 1,000"

    def start(self) -> None:
        self.port = free_port()
        d = self.tmp / f"nginx-{self.port}"
        d.mkdir()
        nofile = fd_hard_limit()
        conf = f"""
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
user root;
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections {nofile - 100}; use epoll; multi_accept on; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{self.port} backlog=65535;
    nchan_message_buffer_length {HISTORY};
    nchan_message_timeout 1h;
    {self.redis_conf()}
    location = /sub {{ nchan_subscriber eventsource; nchan_channel_id $arg_channel; }}
    location = /pub {{ nchan_publisher; nchan_channel_id $arg_channel; }}
    location = /healthz {{ return 200 "ok"; }}
  }}
}}
"""
        (d / "nginx.conf").write_text(conf)
        self.master = self.spawn(["nginx", "-c", str(d / "nginx.conf"), "-p", str(d)], "nginx.log")
        if not wait_http(f"http://127.0.0.1:{self.port}/healthz"):
            raise RuntimeError("nginx did not start; see " + str(d / "error.log"))

    def redis_conf(self) -> str:
        return ""

    def sub_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sub?channel={{ch}}"

    def emit_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pub?channel={{ch}}"

    def pids(self) -> list[int]:
        return children(self.master.pid) or [self.master.pid]  # the worker


class NchanRedis(Nchan):
    name, title = "nchan-redis", "nchan (redis)"
    notes = ("nginx + nchan (Debian), 1 worker, `nchan_use_redis on` with its own redis-server "
             "(CPU and RSS of redis-server reported apart)")

    def start(self) -> None:
        self.rport = start_redis(self)
        self.redis_pid = self.procs[-1].pid
        super().start()

    def redis_conf(self) -> str:
        return f'nchan_redis_url "redis://127.0.0.1:{self.rport}"; nchan_use_redis on;'

    def pids(self) -> list[int]:
        return children(self.master.pid) or [self.master.pid]

    def aux_pids(self) -> list[int]:
        return [self.redis_pid]


class Bare(Server):
    name, title = "bare", "bare epoll"
    emit_format = "raw"
    batch = False
    replay = False
    pipeline = True
    notes = "bench/bare_epoll.cpp: one thread, write() of a ready frame per socket, nothing else"

    def start(self) -> None:
        self.port = free_port()
        self.spawn([str(self.loadgen_dir / "forrealtime-bare-epoll"), "--host", "127.0.0.1", "--port", str(self.port)],
                   "bare.log")
        if not wait_http(f"http://127.0.0.1:{self.port}/healthz"):
            raise RuntimeError("bare epoll did not start")

    def sub_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sub?channel={{ch}}"

    def emit_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/emit?channel={{ch}}"


class OursBase(Ours):
    name, title = "ours-base", "ours before (memory)"
    notes = "the same flags as ours, on the gateway of `FORREALTIME_BASE_BIN` (an earlier commit)"

    def binary(self) -> Path:
        return base_binary()


class OursRedisBase(OursRedis):
    name, title = "ours-redis-base", "ours before (redis)"
    notes = "the same flags as ours (redis), on the gateway of `FORREALTIME_BASE_BIN`"

    def binary(self) -> Path:
        return base_binary()


class OursRedisClusterBase(OursRedisCluster):
    name, title = "ours-redis-cluster-base", "ours before (redis cluster, 3 masters)"
    notes = "the same flags as ours (redis cluster), on the gateway of `FORREALTIME_BASE_BIN`"

    def binary(self) -> Path:
        return base_binary()


class OursBase2(Ours):
    name, title = "ours-base2", "ours before #2 (memory)"
    notes = "the same flags as ours, on the gateway of `FORREALTIME_BASE2_BIN` (another earlier commit)"

    def binary(self) -> Path:
        return base2_binary()


class OursRedisBase2(OursRedis):
    name, title = "ours-redis-base2", "ours before #2 (redis)"
    notes = "the same flags as ours (redis), on the gateway of `FORREALTIME_BASE2_BIN`"

    def binary(self) -> Path:
        return base2_binary()


def variant(base: type, suffix: str, title: str, threads: int, extra: list[str] | None = None) -> type:
    """`ours*` with another thread count or flags: `ours-1t`, `ours-redis-ttl-base`, ..."""
    name = base.name + suffix
    if base.name.endswith("-base"):
        name = base.name[: -len("-base")] + suffix + "-base"
    flags = f"--threads {threads}" + (" " + " ".join(extra) if extra else "")
    return type(name.replace("-", "_"), (base,), dict(
        name=name, title=base.title.replace(")", f", {title})"), threads=threads,
        extra_args=list(extra or []), notes=base.notes.replace("--threads 2", flags)))


# The event-cost scenario measures ours at 1 and 2 worker threads, and with a history expiry
# (every append then also sets the stream's TTL), each beside the base binary.
TTL = ["--history-expire-secs", "86400"]
_variants = []
for _b in (Ours, OursRedis, OursBase, OursRedisBase):
    _variants.append(variant(_b, "-1t", "1 thread", 1))
    if _b.use_redis:
        _variants.append(variant(_b, "-ttl", "1 thread, expiry", 1, TTL))

# The Redis tail's candidate designs (issue 15), on the current binary: blocking XREAD batches of
# 128 keys (the design before keyspace notifications) and of 16 keys (smaller batches: less to
# parse per event, 8x the connections).
_variants.append(variant(OursRedis, "-block128", "blocking reads, 128 keys", 2,
                         ["--redis-tail-wakeup", "blocking", "--redis-tail-batch", "128"]))
_variants.append(variant(OursRedis, "-block16", "blocking reads, 16 keys", 2,
                         ["--redis-tail-wakeup", "blocking", "--redis-tail-batch", "16"]))

SERVERS = {c.name: c for c in (Ours, OursRedis, OursRedisCluster, OursBase, OursRedisBase,
                               OursRedisClusterBase, OursBase2, OursRedisBase2,
                                  *_variants, TsBaseline, Nchan, NchanRedis,
                                  Bare)}

# ------------------------------------------------------------------------------ scenarios


def max_conns() -> int:
    # One process cannot hold more sockets than its RLIMIT_NOFILE hard limit; raising it
    # needs CAP_SYS_RESOURCE. Leave room for listeners, emitters and files.
    return fd_hard_limit() - 1000


def scenario_cases(quick: bool, reps: int) -> dict[str, list[dict]]:
    """name -> cases; a case is a loadgen invocation (extra args) with a label."""
    q = quick
    dur = 3 if q else 10
    cap = max_conns()
    idle_steps = [1000, 5000] if q else [1000, 10000, 50000, 100000]
    steps = []
    for s in idle_steps:
        if s > cap:
            if cap not in steps and cap > (steps[-1] if steps else 0):
                steps.append(cap)
            break
        steps.append(s)
    return {
        "fanout": [
            dict(label="fanout-1k-50", args=["--mode", "stream", "--connections", 300 if q else 1000,
                                             "--channels", 1, "--rate", 50, "--duration", dur]),
            dict(label="fanout-5k-20", args=["--mode", "stream", "--connections", 1000 if q else 5000,
                                             "--channels", 1, "--rate", 20, "--duration", dur]),
        ],
        "idle": [
            dict(label="idle", fresh=True, args=["--mode", "idle", "--steps", ",".join(map(str, steps)),
                                                 "--settle", 2 if q else 3, "--drain", 20, "--sources", 4,
                                                 "--connect-timeout", 120], want_steps=idle_steps),
        ],
        "private": [
            dict(label=f"private-{n}-{r}", args=["--mode", "stream", "--connections", n, "--channels", n,
                                                 "--rate", r, "--duration", 3 if q else 5, "--order", "shuffled"])
            for n in ((500,) if q else (1000, 10000)) for r in (200, 1000)
        ],
        "hot": [
            dict(label="hot-10-of-" + str(1000 if q else 10000),
                 args=["--mode", "stream", "--connections", 1000 if q else 10000, "--channels", 1000 if q else 10000,
                       "--hot", 10, "--rate", 80, "--duration", dur, "--order", "shuffled"]),
        ],
        "replay": [
            dict(label="replay-100", needs="replay", args=["--mode", "replay", "--miss", 100, "--drain", 5]),
            dict(label=f"replay-beyond-{HISTORY}", needs="replay",
                 args=["--mode", "replay", "--miss", HISTORY + HISTORY // 2, "--drain", 5]),
        ],
        # Event cost: what one emit costs the server (and redis-server), at fixed rates and at
        # saturation, over 16 keep-alive connections to 100 channels, no subscribers.
        "cost": [
            dict(label=f"cost-{lab}", needs="batch" if batch > 1 else None,
                 args=["--mode", "emit", "--emit-conns", 16, "--channels", 100, "--emit-rate", rate,
                       "--batch", batch, "--duration", 2 if q else 5])
            for lab, rate, batch in (("5k", 5000, 1), ("20k", 20000, 1), ("20k-batch10", 20000, 10),
                                     ("max", 0, 1), ("max-batch50", 0, 50))
        ],
        # Per event on private channels (emit + delivery): 2,000 subscribers each on its own
        # channel, 1,000 events/s round-robin.
        "cost-private": [
            dict(label="cost-private-2000-1000", args=["--mode", "stream", "--connections", 2000,
                                                       "--channels", 2000, "--rate", 1000,
                                                       "--duration", 3 if q else 10, "--order", "shuffled"]),
        ],
        # The same for 30 s: the Redis tail's cost per event (issue 15), usually run as
        # `--scenarios tail-private --servers ours-redis,ours-redis-base,nchan-redis`.
        "tail-private": [
            dict(label="tail-private-2000-1000", args=["--mode", "stream", "--connections", 2000,
                                                       "--channels", 2000, "--rate", 1000,
                                                       "--duration", 5 if q else 30, "--order", "shuffled"]),
        ],
        # Redis Cluster against one Redis (issue 12), usually run as
        # `--scenarios cluster --servers ours-redis,ours-redis-cluster`: emit throughput over
        # 10,000 channels (closed loop, 16 connections), and delivery to 10,000 subscribers each on
        # its own channel at 1,000 events/s.
        "cluster": [
            dict(label="cluster-emit-10000", args=["--mode", "emit", "--emit-conns", 16, "--channels", 10000,
                                                   "--duration", 3 if q else 10]),
            dict(label="cluster-private-10000-1000", args=["--mode", "stream", "--connections", 10000,
                                                           "--channels", 10000, "--rate", 1000,
                                                           "--duration", 5 if q else 20, "--order", "shuffled"]),
        ],
        "emit": [
            dict(label="emit-single", args=["--mode", "emit", "--emit-conns", 4, "--channels", 100,
                                            "--duration", 2 if q else 5]),
            dict(label="emit-batch-50", needs="batch", args=["--mode", "emit", "--emit-conns", 4, "--channels", 100,
                                                              "--batch", 50, "--duration", 2 if q else 5]),
        ],
    }


STEP_FIELDS = ("ready", "failed", "connect_seconds", "rss_kib", "rss_per_conn_kib")


def merge_result(per_server: dict, sname: str, res: dict) -> None:
    """Adds one round's result: runs are concatenated; idle steps keep every round's values."""
    for st in res.get("steps", []):
        for f in STEP_FIELDS:
            st["all_" + f] = [st.get(f)]
    old = per_server.get(sname)
    if old is None:
        per_server[sname] = res
        return
    old["runs"] = old.get("runs", []) + res.get("runs", [])
    for st in res.get("steps", []):
        mine = next((x for x in old.get("steps", []) if x["target"] == st["target"]), None)
        if mine is None:
            old.setdefault("steps", []).append(st)
            continue
        mine["runs"] = mine.get("runs", []) + st.get("runs", [])
        for f in STEP_FIELDS:
            mine["all_" + f].append(st.get(f))
        mine["all"] = mine.get("all") and st.get("all")
    if "connect" in res:
        old.setdefault("all_connect", [old["connect"]]).append(res["connect"])


def run_case(server: Server, case: dict, reps: int, out_dir: Path, tag: str = "") -> dict | None:
    args = [str(server.loadgen_dir / "forrealtime-loadgen")] + [str(a) for a in case["args"]]
    args += ["--sub-url", server.sub_url(), "--emit-url", server.emit_url(), "--emit-format", server.emit_format,
             "--ready", server.ready, "--reps", str(reps), "--pipeline", "on" if server.pipeline else "off", "--label", case["label"],
             "--server-pid", ",".join(map(str, server.pids())), "--max-time", "240"]
    if server.aux_pids():
        args += ["--aux-pid", ",".join(map(str, server.aux_pids()))]
    log(f"{server.name}: {case['label']}")
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        log(f"{server.name}: {case['label']} did not finish")
        return None
    base = f"{case['label']}.{server.name}{'.' + tag if tag else ''}"
    (out_dir / f"{base}.log").write_text(p.stderr)
    try:
        result = json.loads(p.stdout)
    except json.JSONDecodeError:
        log(f"{server.name}: {case['label']} gave no JSON (exit {p.returncode}); see log")
        return None
    (out_dir / f"{base}.json").write_text(json.dumps(result, indent=1))
    return result


# ------------------------------------------------------------------------------ report


def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def runs_metric(res: dict | None, path: str):
    if not res or not res.get("runs"):
        return None
    vals = []
    for r in res["runs"]:
        x = r
        for k in path.split("."):
            x = x.get(k) if isinstance(x, dict) else None
        vals.append(x)
    return med(vals)


def fmt(x, unit="", digits=None) -> str:
    if x is None:
        return "—"
    if digits is None:
        digits = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
    return f"{x:,.{digits}f}{unit}"


def ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


class Report:
    def __init__(self, servers: list[str], results: dict, titles: dict, quick: bool, reps: int, started: str,
                 wall: float, skipped: dict):
        self.servers, self.results, self.titles = servers, results, titles
        self.quick, self.reps, self.started, self.wall, self.skipped = quick, reps, started, wall, skipped
        self.lines: list[str] = []

    def res(self, label, server):
        return self.results.get(label, {}).get(server)

    def table(self, rows: list[tuple], target_col: bool = True):
        cols = [self.titles[s] for s in self.servers]
        head = ["", *cols]
        if target_col:
            head += ["target (ours)", "ours / bare"]
        self.lines.append("| " + " | ".join(head) + " |")
        self.lines.append("|" + "---|" * len(head))
        for row in rows:
            label, getter, f = row[0], row[1], row[2]
            target = row[3] if len(row) > 3 else ""
            vals = {s: getter(s) for s in self.servers}
            cells = [label] + [f(vals[s]) for s in self.servers]
            if target_col:
                ours = vals.get("ours")
                bare = vals.get("bare")
                num = lambda v: v if isinstance(v, (int, float)) else None
                cells += [target, ratio(num(ours), num(bare)) if len(row) > 4 and row[4] else ""]
            self.lines.append("| " + " | ".join(cells) + " |")
        self.lines.append("")

    def stream_rows(self, label: str, p99_target: str = "", cpu_target: str = "") -> list[tuple]:
        g = lambda path: (lambda s: runs_metric(self.res(label, s), path))
        def deliv(s):
            r = self.res(label, s)
            if not r:
                return None
            return (runs_metric(r, "delivered"), runs_metric(r, "expected_deliveries"), runs_metric(r, "duplicates"),
                    runs_metric(r, "reordered"))
        def fd(v):
            if v is None:
                return "—"
            d, e, dup, reo = v
            if e is None or d is None:
                return "—"
            s = "all" if d >= e else f"{fmt(d, digits=0)} of {fmt(e, digits=0)}"
            if dup:
                s += f", {fmt(dup, digits=0)} dup"
            if reo:
                s += f", {fmt(reo, digits=0)} reordered"
            return s
        def conn(s):
            r = self.res(label, s)
            if not r or "connect" not in r:
                return None
            cs = r.get("all_connect", [r["connect"]])
            return dict(ready=min(c["ready"] for c in cs), failed=max(c["failed"] for c in cs),
                        all=all(c["all"] for c in cs), seconds=med([c["seconds"] for c in cs]))
        def fc(c):
            if not c:
                return "—"
            return f"{c['ready']:,}" + ("" if c.get("all") else f" (of {c['ready'] + c['failed']:,} tried)") + \
                f" in {c['seconds']:.1f} s"
        return [
            ("subscribers ready", conn, fc),
            ("latency p50 (ms)", g("latency.p50_ms"), fmt, "", True),
            ("latency p99 (ms)", g("latency.p99_ms"), fmt, p99_target, True),
            ("latency max (ms)", g("latency.max_ms"), fmt, "", True),
            ("delivered", deliv, fd),
            ("server CPU %", g("server_cpu_pct"), lambda v: fmt(v, "%", 0), cpu_target, True),
            ("+ redis-server CPU %", g("aux_cpu_pct"), lambda v: fmt(v, "%", 0)),
            ("server RSS (MiB)", lambda s: (lambda v: v / 1024 if v is not None else None)(
                runs_metric(self.res(label, s), "server_rss_kib")), fmt),
            ("emit p99 (ms)", g("emit_latency.p99_ms"), fmt),
            ("loadgen CPU %", g("loadgen_cpu_pct"), lambda v: fmt(v, "%", 0)),
            ("others' CPU % (noise, incl. interrupts)", g("others_cpu_pct"), lambda v: fmt(v, "%", 0)),
            ("of which interrupts %", g("irq_cpu_pct"), lambda v: fmt(v, "%", 0)),
        ]

    def summary(self, cases: dict):
        """The issue's targets beside what was measured, one row per target."""
        L = self.lines
        cols = [s for s in ("ts", "nchan", "bare", "ours", "ours-redis") if s in self.servers]
        L += ["## Targets", "", "| scenario | " + " | ".join(self.titles[s] for s in cols) +
              " | target (ours) | met | ours / bare |", "|" + "---|" * (len(cols) + 4)]

        def idle_step(s, n):
            r = self.res("idle", s)
            return next((st for st in (r or {}).get("steps", []) if st["target"] == n), None)

        def idle_top(s):
            r = self.res("idle", s)
            st = (r or {}).get("steps", [])
            return st[-1] if st else None

        def row(title, get, show, target, ok, ratio_of=None):
            vals = {s: get(s) for s in cols}
            ours = vals.get("ours")
            verdict = None if ours is None else ok(ours)
            met = "—" if verdict is None else verdict if isinstance(verdict, str) else "yes" if verdict else "**no**"
            rat = "—"
            if ratio_of and ours is not None and vals.get("bare") is not None:
                a, b = ratio_of(ours), ratio_of(vals["bare"])
                rat = ratio(a, b)
            L.append(f"| {title} | " + " | ".join(show(vals[s]) for s in cols) + f" | {target} | {met} | {rat} |")

        if "fanout" in cases:
            lab = "fanout-5k-20" if any(c["label"] == "fanout-5k-20" for c in cases["fanout"]) else None
            if lab:
                n = next(c for c in cases["fanout"] if c["label"] == lab)["args"][3]
                get = lambda s: (lambda r: None if not r else (runs_metric(r, "latency.p99_ms"),
                                                                runs_metric(r, "server_cpu_pct")))(self.res(lab, s))
                row(f"{n:,} subscribers × 20 events/s: p99 / server CPU", get,
                    lambda v: "—" if v is None else f"{fmt(v[0])} ms / {fmt(v[1], '%', 0)}", "p99 ≤ 27 ms, CPU ≤ 50%",
                    lambda v: v[0] is not None and v[0] <= 27 and v[1] is not None and v[1] <= 50, lambda v: v[0])
        if "idle" in cases:
            get = lambda s: (lambda st: st and runs_metric(st, "latency.p99_ms"))(idle_step(s, 10000))
            bare = get("bare") if "bare" in cols else None
            row("one event to 10,000 idle subscribers: p99", get, lambda v: fmt(v, " ms"), "≤ 1.3× bare epoll",
                lambda v: bare is not None and v <= 1.3 * bare, lambda v: v)
            sf = lambda st, f: med(st["all_" + f]) if "all_" + f in st else st.get(f)
            get = lambda s: (lambda st: st and (sf(st, "rss_per_conn_kib"), sf(st, "ready")))(idle_top(s))
            row("idle memory per connection (RSS), at the largest step", get,
                lambda v: "—" if not v else f"{fmt(v[0], ' KiB')} ({int(v[1]):,} conns)", "≤ 2 KiB; 100k held",
                lambda v: ("yes" if v[0] <= 2 else "**no**") + ("" if v[1] >= 100000 else
                                                                   f"; 100k not testable here (fd limit)"),
                lambda v: v[0])
        if "private" in cases:
            labs = [c["label"] for c in cases["private"]]
            lab = "private-10000-1000" if "private-10000-1000" in labs else labs[-1]
            get = lambda s: (lambda r: None if not r else (runs_metric(r, "latency.p99_ms"), runs_metric(
                r, "latency.max_ms"), runs_metric(r, "lost")))(self.res(lab, s))
            row(f"{lab}: p99 (max), lost", get,
                lambda v: "—" if v is None else f"{fmt(v[0])} ms ({fmt(v[1])} ms), lost {fmt(v[2], digits=0)}",
                "p99 ≤ 1 ms at 10,000 channels, 1,000/s", lambda v: v[0] is not None and v[0] <= 1 and not v[2],
                lambda v: v[0])
        if "hot" in cases:
            lab = cases["hot"][0]["label"]
            get = lambda s: (lambda r: None if not r else (runs_metric(r, "delivered"), runs_metric(
                r, "expected_deliveries"), runs_metric(r, "latency.p99_ms")))(self.res(lab, s))
            row(f"10 hot among {lab.split('-')[-1]} private channels: delivered, p99", get,
                lambda v: "—" if v is None else f"{fmt(v[0], digits=0)} of {fmt(v[1], digits=0)}, {fmt(v[2])} ms",
                "all, p99 ≤ 1 ms", lambda v: v[0] is not None and v[0] >= v[1] and v[2] is not None and v[2] <= 1,
                lambda v: v[2])
        if "replay" in cases:
            lab = cases["replay"][-1]["label"]
            def get(s):
                r = self.res(lab, s)
                if not r or not r.get("runs"):
                    return None
                return (runs_metric(r, "lost"), runs_metric(r, "missed"),
                        sum(1 for x in r["runs"] if x.get("history_lost")), len(r["runs"]))
            row("replay beyond history: lost, told", get,
                lambda v: "—" if v is None else f"{fmt(v[0], digits=0)} of {fmt(v[1], digits=0)} lost, "
                f"told {v[2]}/{v[3]}", "the client is told", lambda v: v[2] == v[3] and v[3] > 0)
        L += ["", "Ratios are ours ÷ bare epoll (the machine's ceiling); lower is better. Each scenario's own "
              "table follows.", ""]

    def write(self, path: Path, cases: dict):
        L = self.lines
        L += ["# Benchmark results", "",
              f"Written by `bench/run.sh{' --quick' if self.quick else ''}` on {self.started} "
              f"({self.wall / 60:.1f} min). Medians of {self.reps} rounds: each round starts every server afresh "
              "for every case, servers in rotated order; "
              "latency = receive time − send time stamped in the payload, one clock, microseconds.", "",
              "| machine | |", "|---|---|",
              f"| CPU | {cpu_model()} × {os.cpu_count()} (nproc {nproc()}); shared with other work |",
              f"| kernel | {platform.release()} |",
              f"| memory | {mem_total_gib():.0f} GiB |",
              f"| fd limit | {fd_hard_limit():,} per process (hard; raising it needs CAP_SYS_RESOURCE) |",
              f"| date | {self.started} |", "", "Servers:", ""]
        for s in self.servers:
            L.append(f"- **{self.titles[s]}**: {SERVERS[s].notes}")
        for s, why in self.skipped.items():
            L.append(f"- *{s}* not measured: {why}")
        L += ["", "Everything runs on one 2-core machine: server, load generator (one thread) and redis share "
              "the cores, so latency includes time the load generator spends reading the other sockets "
              "of the same event. The machine is shared: servers and load generator run at `nice 10`, and "
              "the row *others' CPU %* (all busy CPU time of the machine minus server, redis and load "
              "generator, 100% = one core) shows how much others used during the measured phase; where it "
              "is high, the latencies of that column are mostly waiting for a CPU. It includes interrupt "
              "time, which no process is charged for: the kernel's loopback TCP work for the benchmark's own "
              "traffic lands there too, so it is an upper bound (the next row shows that part when the load "
              "generator recorded it).", ""]

        self.summary(cases)
        L += ["## 1. Fan-out: one channel, many subscribers", ""]
        for c in cases.get("fanout", []):
            lab = c["label"]
            n, rate = c["args"][c["args"].index("--connections") + 1], c["args"][c["args"].index("--rate") + 1]
            L += [f"### {n:,} subscribers × {rate} events/s (`{lab}`)", ""]
            is5k = lab == "fanout-5k-20"
            self.table(self.stream_rows(lab, "≤ 27 ms" if is5k else "", "≤ 50%" if is5k else ""))

        if "idle" in cases:
            L += ["## 2. Idle scale: memory per connection, one event to everyone", ""]
            c = cases["idle"][0]
            cap = max_conns()
            missing = [s for s in c["want_steps"] if s > cap]
            if missing:
                L += [f"Steps {', '.join(f'{s:,}' for s in missing)} cannot run here: a process may hold at most "
                      f"{fd_hard_limit():,} descriptors (hard limit, not raisable without CAP_SYS_RESOURCE), so the "
                      f"largest step is {cap:,}.", ""]
            steps = sorted({st["target"] for s in self.servers for st in (self.res("idle", s) or {}).get("steps", [])})
            for n in steps:
                def step(s, n=n):
                    r = self.res("idle", s)
                    return next((st for st in (r or {}).get("steps", []) if st["target"] == n), None)
                def m(path, n=n):
                    def get(s):
                        st = step(s)
                        if not st:
                            return None
                        if "all_" + path in st:
                            return med(st["all_" + path])
                        if path in st:
                            return st[path]
                        return runs_metric(st, path)
                    return get
                L += [f"### {n:,} idle subscribers", ""]
                self.table([
                    ("connected", lambda s: (step(s) or {}).get("ready"), lambda v: fmt(v, digits=0)),
                    ("connect time (s)", m("connect_seconds"), fmt),
                    ("RSS per connection (KiB)", m("rss_per_conn_kib"), fmt, "≤ 2 KiB" if n >= 10000 else "", True),
                    ("server RSS (MiB)", lambda s: (lambda v: v / 1024 if v else None)(m("rss_kib")(s)), fmt),
                    ("one event: p99 (ms)", m("latency.p99_ms"), fmt, "≤ 1.3× bare" if n == 10000 else "", True),
                    ("one event: all have it (ms)", lambda s: (lambda v: v * 1000 if v is not None else None)(
                        m("all_seconds")(s)), fmt, "", True),
                    ("lost", m("lost"), lambda v: fmt(v, digits=0)),
                    ("others' CPU % (noise, incl. interrupts)", m("others_cpu_pct"), lambda v: fmt(v, "%", 0)),
                    ("of which interrupts %", m("irq_cpu_pct"), lambda v: fmt(v, "%", 0)),
                ])

        if "private" in cases:
            L += ["## 3. Private channels: one subscriber per channel, events to shuffled channels", ""]
            for c in cases["private"]:
                lab = c["label"]
                _, n, r = lab.split("-")
                L += [f"### {int(n):,} channels, {r} events/s (`{lab}`)", ""]
                tgt = "≤ 1 ms" if (n, r) == ("10000", "1000") else ""
                self.table(self.stream_rows(lab, tgt))

        if "hot" in cases:
            c = cases["hot"][0]
            lab = c["label"]
            L += ["## 4. Hot among idle: 10 busy private channels among quiet ones", "",
                  f"`{lab}`: {lab.split('-')[-1]} subscribers each on its own channel, events only to 10 of them "
                  f"(80 events/s in all).", ""]
            self.table(self.stream_rows(lab, "all, p99 ≤ 1 ms"))

        if "replay" in cases:
            L += ["## 5. Replay: a client misses events and comes back with `last_ack_<channel>`", ""]
            for c in cases["replay"]:
                lab = c["label"]
                miss = c["args"][c["args"].index("--miss") + 1]
                L += [f"### misses {miss:,} events (history keeps {HISTORY:,}) (`{lab}`)", ""]
                g = lambda path, lab=lab: (lambda s: runs_metric(self.res(lab, s), path))
                def told(s, lab=lab):
                    r = self.res(lab, s)
                    if not r or not r.get("runs"):
                        return None
                    return sum(1 for x in r["runs"] if x.get("history_lost")), len(r["runs"])
                self.table([
                    ("replayed", g("replayed"), lambda v: fmt(v, digits=0)),
                    ("lost", g("lost"), lambda v: fmt(v, digits=0), "0" if miss <= HISTORY else "told"),
                    ("duplicates", g("duplicates"), lambda v: fmt(v, digits=0)),
                    ("live events after replay (of 10)", g("live_after"), lambda v: fmt(v, digits=0)),
                    ("told (history_lost)", told, lambda v: "—" if v is None else f"{v[0]} of {v[1]} runs",
                     "yes" if miss > HISTORY else ""),
                    ("replay time (ms)", lambda s: (lambda v: v * 1000 if v is not None else None)(
                        g("replay_seconds")(s)), fmt),
                ], target_col=True)
            L += ["nchan and the bare broadcaster have no `last_ack_<channel>` (nchan resumes with "
                  "`Last-Event-ID` instead); not measured.", ""]

        if "emit" in cases:
            L += ["## 6. Emit throughput: closed loop, 4 keep-alive connections, no subscribers", ""]
            for c in cases["emit"]:
                lab = c["label"]
                g = lambda path, lab=lab: (lambda s: runs_metric(self.res(lab, s), path))
                L += [f"### `{lab}`", ""]
                self.table([
                    ("events/s accepted", g("events_per_s"), lambda v: fmt(v, digits=0), "", True),
                    ("request latency p50 (ms)", g("emit_latency.p50_ms"), fmt),
                    ("request latency p99 (ms)", g("emit_latency.p99_ms"), fmt),
                    ("failed", g("events_failed"), lambda v: fmt(v, digits=0)),
                    ("server CPU %", g("server_cpu_pct"), lambda v: fmt(v, "%", 0)),
                    ("+ redis-server CPU %", g("aux_cpu_pct"), lambda v: fmt(v, "%", 0)),
                    ("others' CPU % (noise, incl. interrupts)", g("others_cpu_pct"), lambda v: fmt(v, "%", 0)),
            ("of which interrupts %", g("irq_cpu_pct"), lambda v: fmt(v, "%", 0)),
                ])
            L += ["nchan's publisher and the bare broadcaster take one message per request: no batched column.", ""]

        if "cost" in cases or "cost-private" in cases or "tail-private" in cases:
            self.cost_section(cases)

        if "cluster" in cases:
            L += ["## Redis Cluster against one Redis (issue 12)", ""]
            for c in cases["cluster"]:
                lab = c["label"]
                L += [f"### `{lab}`", ""]
                if "emit" in lab:
                    g = lambda path, lab=lab: (lambda s: runs_metric(self.res(lab, s), path))
                    self.table([
                        ("events/s accepted", g("events_per_s"), lambda v: fmt(v, digits=0)),
                        ("request latency p50 (ms)", g("emit_latency.p50_ms"), fmt),
                        ("request latency p99 (ms)", g("emit_latency.p99_ms"), fmt),
                        ("failed", g("events_failed"), lambda v: fmt(v, digits=0)),
                        ("server CPU %", g("server_cpu_pct"), lambda v: fmt(v, "%", 0)),
                        ("+ redis-server(s) CPU %", g("aux_cpu_pct"), lambda v: fmt(v, "%", 0)),
                        ("others' CPU % (noise)", g("others_cpu_pct"), lambda v: fmt(v, "%", 0)),
                    ], target_col=False)
                else:
                    self.table(self.stream_rows(lab), target_col=False)

        L += ["## Raw data", "", "Every run's JSON and the load generator's log are under `bench/results/` "
              "(not committed).", ""]
        path.write_text("\n".join(L))


    def cost_section(self, cases: dict):
        """Event cost: CPU per emit of the server and of redis-server, latency, throughput."""
        L = self.lines
        labs = [c["label"] for c in cases.get("cost", [])]
        g = lambda lab, path: (lambda s: runs_metric(self.res(lab, s), path))
        L += ["## 7. Event cost: CPU per emit", "",
              "16 keep-alive connections, 100 channels, no subscribers; fixed rates (open loop) and "
              "saturation (closed loop). CPU per event = (utime + stime of the server process, all "
              "threads) over the phase ÷ events acknowledged; redis-server's apart. Medians over the "
              "rounds; *others' CPU* says how loaded the machine was.", ""]
        if labs:
            cpu_labs = [l for l in labs if "max" not in l] + [l for l in labs if "max" in l]
            head = ["server"]
            for l in cpu_labs:
                head += [f"`{l}` server µs", "redis µs"]
            L += ["### CPU per event (µs)", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for s in self.servers:
                if not any(self.res(l, s) for l in cpu_labs):
                    continue
                cells = [self.titles[s]]
                for l in cpu_labs:
                    cells += [fmt(g(l, "server_cpu_us_per_event")(s)), fmt(g(l, "aux_cpu_us_per_event")(s))]
                L.append("| " + " | ".join(cells) + " |")
            L += ["", "### Latency, throughput, noise", ""]
            fixed = [l for l in labs if "max" not in l]
            sat = [l for l in labs if "max" in l]
            head = ["server"] + [f"`{l}` p50 / p99 (ms)" for l in fixed] + [f"`{l}` events/s" for l in sat] + \
                ["failed", "late requests", "others' CPU % (median)"]
            L += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for s in self.servers:
                if not any(self.res(l, s) for l in labs):
                    continue
                cells = [self.titles[s]]
                for l in fixed:
                    a, b = g(l, "emit_latency.p50_ms")(s), g(l, "emit_latency.p99_ms")(s)
                    cells.append("—" if a is None else f"{fmt(a)} / {fmt(b)}")
                for l in sat:
                    cells.append(fmt(g(l, "events_per_s")(s), digits=0))
                failed = sum(v for v in (g(l, "events_failed")(s) for l in labs) if v)
                late = sum(v for v in (g(l, "late_requests")(s) for l in fixed) if v)
                cells += [fmt(failed, digits=0), fmt(late, digits=0),
                          fmt(med([g(l, "others_cpu_pct")(s) for l in labs]), "%", 0)]
                L.append("| " + " | ".join(cells) + " |")
            L += ["", "nchan takes one message per publish: no batch columns. `late requests`: requests "
                  "that found all 16 connections busy when due (the rate was then not held).", ""]
        for c in cases.get("cost-private", []) + cases.get("tail-private", []):
            lab = c["label"]
            L += [f"### Private channels, CPU per event including delivery (`{lab}`)", ""]
            self.table([
                ("server CPU per event (µs)", g(lab, "server_cpu_us_per_event"), fmt),
                ("redis CPU per event (µs)", g(lab, "aux_cpu_us_per_event"), fmt),
                ("latency p50 (ms)", g(lab, "latency.p50_ms"), fmt),
                ("latency p99 (ms)", g(lab, "latency.p99_ms"), fmt),
                ("lost", g(lab, "lost"), lambda v: fmt(v, digits=0)),
                ("server RSS (MiB)", lambda s, lab=lab: (lambda v: v / 1024 if v is not None else None)(
                    g(lab, "server_rss_kib")(s)), fmt),
                ("redis RSS (MiB)", lambda s, lab=lab: (lambda v: v / 1024 if v is not None else None)(
                    g(lab, "aux_rss_kib")(s)), fmt),
                ("others' CPU % (noise, incl. interrupts)", g(lab, "others_cpu_pct"), lambda v: fmt(v, "%", 0)),
            ], target_col=False)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def nproc() -> str:
    return subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()


def mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return int(line.split()[1]) / 1024 / 1024
    return 0


# ------------------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer connections, shorter runs")
    ap.add_argument("--scenarios", default="fanout,idle,private,hot,replay,emit",
                    help="also: cost, cost-private (the event-cost scenario; see bench/README.md)")
    ap.add_argument("--servers", default="ours,ours-redis,ts,nchan,bare")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--loadgen-dir", default=str(ROOT / "build/bench"))
    ap.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    ap.add_argument("--report-only", metavar="DIR",
                    help="rewrite RESULTS.md from DIR/all.json of an earlier run (same --quick/--reps/--servers)")
    a = ap.parse_args()

    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.time()
    wanted = [s.strip() for s in a.servers.split(",") if s.strip()]
    skipped = {}
    servers = []
    for s in wanted:
        if s not in SERVERS:
            ap.error(f"unknown server {s}; known: {', '.join(SERVERS)}")
        is_base = s.endswith("-base") or s.endswith("-base2")
        if s.startswith("ours") and not is_base and not ours_binary().exists():
            skipped[SERVERS[s].title] = f"{ours_binary()} does not exist (set FORREALTIME_BIN)"
            continue
        if s.startswith("ours-redis") and not is_base and not ours_supports_redis():
            skipped[SERVERS[s].title] = "`forrealtime serve --help` does not mention `--redis` yet"
            continue
        if s.endswith("-base2") and not (base2_binary() and base2_binary().exists()):
            skipped[SERVERS[s].title] = "set FORREALTIME_BASE2_BIN to an earlier build to measure it"
            continue
        if s.endswith("-base") and not (base_binary() and base_binary().exists()):
            skipped[SERVERS[s].title] = "set FORREALTIME_BASE_BIN to an earlier build to measure it"
            continue
        servers.append(s)
    all_cases = scenario_cases(a.quick, a.reps)
    chosen = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    cases = {k: all_cases[k] for k in chosen if k in all_cases}
    if a.report_only:
        d = Path(a.report_only)
        results = json.loads((d / "all.json").read_text())
        servers = [s for s in servers if any(s in v for v in results.values())]
        titles = {s: SERVERS[s].title for s in servers}
        started = datetime.datetime.strptime(d.name, "%Y%m%d-%H%M%S").strftime("%Y-%m-%d %H:%M UTC")
        wall = max(p.stat().st_mtime for p in d.iterdir()) - min(p.stat().st_mtime for p in d.iterdir())
        Report(servers, results, titles, a.quick, a.reps, started, wall, skipped).write(Path(a.results), cases)
        log(f"rewrote {a.results} from {d}")
        return 0
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = BENCH / "results" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict]] = {}
    titles = {s: SERVERS[s].title for s in servers}
    with tempfile.TemporaryDirectory(prefix="forrealtime-bench-") as tmp:
        global _ours_copy
        if ours_binary().exists():
            copy = Path(tmp) / "forrealtime"
            shutil.copy2(ours_binary(), copy)
            _ours_copy = copy
        global _base_copy
        if base_binary() and base_binary().exists():
            copy = Path(tmp) / "forrealtime-base"
            shutil.copy2(base_binary(), copy)
            _base_copy = copy
            log(f"the earlier gateway: {os.environ['FORREALTIME_BASE_BIN']}")
            log(f"our gateway: {ours_binary()} (copied from "
                f"{os.environ.get('FORREALTIME_BIN', ROOT / 'build/release/src/cli/forrealtime')})")
        global _base2_copy
        if base2_binary() and base2_binary().exists():
            copy = Path(tmp) / "forrealtime-base2"
            shutil.copy2(base2_binary(), copy)
            _base2_copy = copy
            log(f"the second earlier gateway: {os.environ['FORREALTIME_BASE2_BIN']}")
        # Rounds outermost: on a shared machine the load of others changes by the minute, so
        # each server gets one run of every case per round, in a rotated order, and the
        # medians are over rounds: noise lands on every column alike.
        for rnd in range(a.reps):
            order = servers[rnd % len(servers):] + servers[:rnd % len(servers)] if servers else []
            for scen, cs in cases.items():
                for case in cs:
                    for sname in order:
                        cls = SERVERS[sname]
                        need = case.get("needs")
                        if need and not getattr(cls, need):
                            continue
                        server = cls(Path(tmp), Path(a.loadgen_dir))
                        try:
                            server.start()
                            time.sleep(0.3)
                            res = run_case(server, case, 1, out_dir, f"r{rnd}")
                            if res is not None:
                                merge_result(results.setdefault(case["label"], {}), sname, res)
                        except Exception as e:  # one server failing must not stop the others
                            log(f"{sname}: {case['label']}: {e}")
                        finally:
                            server.stop()
                        # Keep the partial report current: a long run interrupted still leaves data.
                        Report(servers, results, titles, a.quick, rnd + 1, started, time.time() - t0,
                               skipped).write(Path(a.results), cases)
                        (out_dir / "all.json").write_text(json.dumps(results))
    log(f"done in {(time.time() - t0) / 60:.1f} min: {a.results}, raw data in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
