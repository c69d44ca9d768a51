#!/usr/bin/env python3
"""Scale: many SSE subscribers of one channel held across several gateways on one Redis.

Starts one redis-server and G `forrealtime serve --redis` gateways on free loopback ports,
then L load generator processes (`forrealtime-loadgen --mode hold`), loadgen i on gateway
i % G from source address 127.0.0.(2 + i), so that no source address needs more than its
~28k ephemeral ports and no process more than its descriptor limit. When every subscriber
is connected (the first SSE event arrived), it emits E events through gateway 0 only, `gap`
seconds apart, each stamped with its send time (CLOCK_REALTIME µs, the clock the load
generators stamp receipt with), waits `drain` seconds, and collects every delivery's latency.

Reports per event: deliveries, p50/p99/max latency (max = the time until all had it), and the
medians over the events; connection setup time; RSS per connection of the gateways and
redis-server's RSS; the gateways' CPU per delivery. Every process it started is stopped by
its pid, whatever happens. JSON on stdout, progress on stderr.

  python3 bench/scale.py --gateways 6 --subscribers 100000 --events 5 --gap 2
  python3 bench/scale.py --gateways 1 --loadgens 2 --subscribers 18000 --threads 1
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def proc_stat(pid: int) -> tuple[float, int]:
    """(utime + stime seconds, VmRSS KiB) of a process."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        line = Path(f"/proc/{pid}/stat").read_text()
        f = line[line.rfind(")") + 2:].split()
        cpu = (int(f[11]) + int(f[12])) / tick
        rss = 0
        for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
            if ln.startswith("VmRSS:"):
                rss = int(ln.split()[1])
        return cpu, rss
    except OSError:
        return 0.0, 0


def machine_busy() -> float:
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def tcp_mem_kib() -> int:
    """The kernel's TCP buffer memory, machine-wide (/proc/net/sockstat `TCP: ... mem` pages)."""
    for ln in Path("/proc/net/sockstat").read_text().splitlines():
        if ln.startswith("TCP:"):
            f = ln.split()
            return int(f[f.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return 0


def redis_info(port: int) -> dict[str, str]:
    """INFO clients + memory of the redis-server, as a dict."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"INFO clients\r\nINFO memory\r\n")
        data = b""
        while data.count(b"used_memory:") < 1 or not data.endswith(b"\r\n"):
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    out = {}
    for ln in data.decode(errors="replace").splitlines():
        if ":" in ln and not ln.startswith("$"):
            k, v = ln.split(":", 1)
            out[k] = v
    return out


def pct(sorted_v: list[int], p: float) -> float:
    if not sorted_v:
        return float("nan")
    i = max(0, min(len(sorted_v) - 1, int(-(-p * len(sorted_v) // 1)) - 1))
    return sorted_v[i] / 1000.0


def median(v: list[float]) -> float:
    v = sorted(x for x in v if x == x)
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


class Run:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.tmp = Path(tempfile.mkdtemp(prefix="forrealtime-scale-"))
        self.procs: list[subprocess.Popen] = []

    def spawn(self, args: list[str], log_name: str, stdout=None) -> subprocess.Popen:
        f = open(self.tmp / log_name, "ab")
        p = subprocess.Popen(args, stdout=stdout or f, stderr=f, start_new_session=True,
                             preexec_fn=raise_nofile)
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()

    def wait_port(self, port: int, timeout: float = 20) -> None:
        end = time.time() + timeout
        while time.time() < end:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nothing listens on {port}; logs in {self.tmp}")

    def run(self) -> dict:
        a = self.a
        out: dict = {"params": vars(a).copy(), "load_average_start": os.getloadavg(),
                     "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE), "nproc": os.cpu_count()}
        # redis-server
        rport = free_port()
        (self.tmp / "redis").mkdir()
        redis = self.spawn(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(self.tmp / "redis"), "--maxclients", "1000"],
                           "redis.log")
        self.wait_port(rport)
        # gateways
        gws: list[tuple[subprocess.Popen, int]] = []
        for g in range(a.gateways):
            port = free_port()
            p = self.spawn([a.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads",
                            str(a.threads), "--history-max-length", "1000", "--redis",
                            f"redis://127.0.0.1:{rport}", "--log-level", "warn"], f"gateway-{g}.log")
            gws.append((p, port))
        for p, port in gws:
            self.wait_port(port)
        time.sleep(1)
        base_gw = [proc_stat(p.pid)[1] for p, _ in gws]
        base_redis = proc_stat(redis.pid)[1]
        base_tcp = tcp_mem_kib()
        # load generators
        chan_prefix = f"scale-{random.getrandbits(32):08x}-"
        channel = chan_prefix + "0"
        stop_file = self.tmp / "stop"
        lgs = []
        per = [a.subscribers // a.loadgens + (1 if i < a.subscribers % a.loadgens else 0)
               for i in range(a.loadgens)]
        t_connect = time.monotonic()
        for i in range(a.loadgens):
            _, port = gws[i % a.gateways]
            f_out = open(self.tmp / f"loadgen-{i}.json", "wb")
            p = self.spawn([a.loadgen, "--mode", "hold", "--connections", str(per[i]),
                            "--sub-url", f"http://127.0.0.1:{port}/api/realtime?channel={{ch}}",
                            "--channel-prefix", chan_prefix, "--ready", "event", "--sources", "1",
                            "--source-base", str(1 + i), "--connect-concurrency", str(a.connect_concurrency),
                            "--connect-timeout", str(a.connect_timeout), "--max-time", str(a.max_time),
                            "--ready-file", str(self.tmp / f"ready-{i}"), "--stop-file", str(stop_file),
                            "--latency-out", str(self.tmp / f"lat-{i}.txt"), "--label", f"hold-{i}"],
                           f"loadgen-{i}.log", stdout=f_out)
            lgs.append(p)
        end = time.monotonic() + a.connect_timeout + 30
        ready: list[dict | None] = [None] * a.loadgens
        while time.monotonic() < end and not all(ready):
            for i in range(a.loadgens):
                f = self.tmp / f"ready-{i}"
                if ready[i] is None and f.exists():
                    ready[i] = json.loads(f.read_text())
                if ready[i] is None and lgs[i].poll() is not None:
                    raise RuntimeError(f"loadgen {i} ended early; see {self.tmp}/loadgen-{i}.log")
            time.sleep(0.1)
        if not all(ready):
            raise RuntimeError(f"subscribers not connected in time; logs in {self.tmp}")
        connect_wall = time.monotonic() - t_connect
        connected = sum(int(r["ready"]) for r in ready)
        log(f"{connected} subscribers on {a.gateways} gateways in {connect_wall:.1f} s")
        time.sleep(a.settle)
        gw_stat = [proc_stat(p.pid) for p, _ in gws]
        redis_stat = proc_stat(redis.pid)
        tcp = tcp_mem_kib()
        info = redis_info(rport)
        out["connect"] = {
            "subscribers": connected, "failed": sum(int(r["failed"]) for r in ready),
            "wall_seconds": connect_wall, "per_loadgen_seconds": [r["connect_seconds"] for r in ready],
            "per_second": connected / connect_wall if connect_wall > 0 else None,
        }
        gw_delta = sum(s[1] for s in gw_stat) - sum(base_gw)
        out["memory"] = {
            "gateway_rss_base_kib": base_gw, "gateway_rss_kib": [s[1] for s in gw_stat],
            "gateway_kib_per_connection": gw_delta / connected if connected else None,
            "redis_rss_base_kib": base_redis, "redis_rss_kib": redis_stat[1],
            "kernel_tcp_mem_base_kib": base_tcp, "kernel_tcp_mem_kib": tcp,
            "redis_connected_clients": int(info.get("connected_clients", "-1")),
            "redis_used_memory": int(info.get("used_memory", "-1")),
        }
        # emits, through gateway 0 only
        cpu0 = [proc_stat(p.pid)[0] for p, _ in gws]
        rcpu0 = proc_stat(redis.pid)[0]
        lcpu0 = [proc_stat(p.pid)[0] for p in lgs]
        busy0, wall0 = machine_busy(), time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", gws[0][1], timeout=30)
        emits = []
        for seq in range(1, a.events + 1):
            t = time.time_ns() // 1000
            body = json.dumps({"channel": channel, "event": "bench.tick", "data": {"t": t, "seq": seq}})
            conn.request("POST", "/api/emit", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            emits.append({"seq": seq, "status": r.status, "emit_ms": (time.time_ns() // 1000 - t) / 1000})
            if seq < a.events:
                time.sleep(a.gap)
        conn.close()
        time.sleep(a.drain)
        out["memory"]["kernel_tcp_mem_after_events_kib"] = tcp_mem_kib()
        out["memory"]["gateway_rss_after_events_kib"] = [proc_stat(p.pid)[1] for p, _ in gws]
        cpu1 = [proc_stat(p.pid)[0] for p, _ in gws]
        rcpu1 = proc_stat(redis.pid)[0]
        lcpu1 = [proc_stat(p.pid)[0] for p in lgs]
        busy1, wall1 = machine_busy(), time.monotonic()
        stop_file.touch()
        for p in lgs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        results = []
        lat: dict[int, list[int]] = {s: [] for s in range(1, a.events + 1)}
        for i in range(a.loadgens):
            try:
                results.append(json.loads((self.tmp / f"loadgen-{i}.json").read_text()))
            except (OSError, ValueError):
                results.append(None)
            f = self.tmp / f"lat-{i}.txt"
            if f.exists():
                for ln in f.read_text().splitlines():
                    s, us = ln.split()
                    if int(s) in lat:
                        lat[int(s)].append(int(us))
        per_event = []
        for e in emits:
            v = sorted(lat[e["seq"]])
            per_event.append({**e, "delivered": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99),
                              "max_ms": pct(v, 1.0)})
        all_got = [e for e in per_event if e["delivered"] >= connected]
        deliveries = sum(e["delivered"] for e in per_event)
        gw_cpu = sum(cpu1) - sum(cpu0)
        out["events"] = per_event
        out["summary"] = {
            "subscribers": connected,
            "events": a.events,
            "events_delivered_to_all": len(all_got),
            "median_p50_ms": median([e["p50_ms"] for e in per_event]),
            "median_p99_ms": median([e["p99_ms"] for e in per_event]),
            "median_all_have_it_ms": median([e["max_ms"] for e in all_got]) if all_got else None,
            "median_emit_ms": median([e["emit_ms"] for e in per_event]),
            "gateway_cpu_s": gw_cpu,
            "gateway_cpu_us_per_delivery": gw_cpu * 1e6 / deliveries if deliveries else None,
            "gateway_cpu_s_per_gateway": [c1 - c0 for c0, c1 in zip(cpu0, cpu1)],
            "redis_cpu_s": rcpu1 - rcpu0,
            "loadgen_cpu_s": sum(lcpu1) - sum(lcpu0),
            "loadgen_cpu_us_per_delivery": (sum(lcpu1) - sum(lcpu0)) * 1e6 / deliveries if deliveries else None,
            "machine_busy_pct_during_events": 100 * (busy1 - busy0) / (wall1 - wall0),
            "still_connected": sum(int(r["still_connected"]) for r in results if r),
            "closed_by_server": sum(int(r["closed_by_server"]) for r in results if r),
            "duplicates": sum(int(r["duplicates"]) for r in results if r),
        }
        out["load_average_end"] = os.getloadavg()
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build/release/src/cli/forrealtime"))
    ap.add_argument("--loadgen", default=str(ROOT / "build/release/bench/forrealtime-loadgen"))
    ap.add_argument("--gateways", type=int, default=6)
    ap.add_argument("--loadgens", type=int, default=0, help="load generator processes (default: one per gateway)")
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--events", type=int, default=5)
    ap.add_argument("--gap", type=float, default=2.0)
    ap.add_argument("--drain", type=float, default=10.0)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--connect-concurrency", type=int, default=500)
    ap.add_argument("--connect-timeout", type=float, default=600)
    ap.add_argument("--max-time", type=float, default=1200)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    a = ap.parse_args()
    a.loadgens = a.loadgens or a.gateways
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if a.subscribers / a.loadgens > nofile - 100 or a.subscribers / a.gateways > nofile - 100:
        ap.error(f"{a.subscribers} subscribers need more processes: the descriptor limit is {nofile}")
    if a.subscribers / a.loadgens > 28_000:
        ap.error("more than ~28k connections from one source address: use more --loadgens")
    for prog in ("redis-server",):
        if not shutil.which(prog):
            ap.error(f"{prog} not found")
    r = Run(a)
    try:
        out = r.run()
        print(json.dumps(out, indent=1))
        return 0
    except Exception as e:  # noqa: BLE001 - report, then stop everything
        log(f"failed: {e}")
        return 1
    finally:
        r.stop()
        if not a.keep:
            shutil.rmtree(r.tmp, ignore_errors=True)
        else:
            log(f"logs kept in {r.tmp}")


if __name__ == "__main__":
    sys.exit(main())
