#!/usr/bin/env python3
"""Soak: mixed load on one gateway for a long time, then check that nothing grew.

Not part of CI (it runs 10 minutes by default). It starts its own redis-server and
`forrealtime serve --redis` on free loopback ports in a temporary directory and, for
--duration seconds, runs at once:

  fan-out      forrealtime-loadgen, 300 subscribers on one channel, 20 events/s, in phases
  private      forrealtime-loadgen, 500 subscribers on 500 channels, 250 events/s, in phases
               (every phase connects and disconnects all of them: reconnect churn)
  churn        streams opened with a last_ack, read for a moment and dropped, in a loop
  slow         subscribers to a busy channel of 32 KiB events that never read: the gateway must
               cut them (`reconnect` + close) at its hard queue limit
  bad          malformed requests: bad JSON, unknown paths, odd channel names, oversize bodies,
               huge numbers, smuggling attempts, raw junk bytes

Every --sample seconds it records the gateway's RSS and open descriptors and redis-server's
connected clients and used memory. After the load stops it waits --settle seconds and
samples again. "Flat" means the settled values at the end are within the tolerance of the
settled values after the first minute (`--warmup`), which is what a leak would break.

Output: JSON on stdout (every sample) and a Markdown summary on stderr, for bench/RESULTS.md.

  bench/soak.py [--duration 600] [--bin build/release/src/cli/forrealtime] [--loadgen DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def redis_info(port: int) -> dict[str, str]:
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO"], capture_output=True, text=True,
                         timeout=10).stdout
    info = {}
    for line in out.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            info[k] = v.strip()
    return info


def request(port: int, raw: bytes, read_for: float = 1.0) -> bytes:
    """Sends raw bytes, reads what comes back for up to read_for seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_for) as s:
        s.sendall(raw)
        got = b""
        end = time.time() + read_for
        try:
            while time.time() < end:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if b"\r\n\r\n" in got and b"text/event-stream" not in got:
                    break
        except OSError:
            pass
        return got


def post_json(port: int, body: bytes) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/emit", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


class Soak:
    def __init__(self, args: argparse.Namespace, tmp: Path):
        self.args = args
        self.tmp = tmp
        self.stop = threading.Event()
        self.procs: list[subprocess.Popen] = []
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def spawn(self, argv: list[str], name: str) -> subprocess.Popen:
        f = open(self.tmp / f"{name}.log", "ab")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        return p

    def start(self) -> None:
        self.rport = free_port()
        (self.tmp / "redis").mkdir()
        self.redis = self.spawn(["redis-server", "--port", str(self.rport), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir",
                                 str(self.tmp / "redis"), "--maxclients", "10000"], "redis")
        wait_port(self.rport)
        self.port = free_port()
        self.gw = self.spawn([self.args.bin, "serve", "--host", "127.0.0.1", "--port",
                              str(self.port), "--threads", "2", "--history-max-length", "1000",
                              "--redis", f"redis://127.0.0.1:{self.rport}"], "gateway")
        wait_port(self.port)

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def sample(self, phase: str) -> dict:
        info = redis_info(self.rport)
        return {"t": round(time.time() - self.t0, 1), "phase": phase,
                "gateway_rss_kib": rss_kib(self.gw.pid), "gateway_fds": open_fds(self.gw.pid),
                "redis_clients": int(info.get("connected_clients", 0)),
                "redis_blocked_clients": int(info.get("blocked_clients", 0)),
                "redis_used_memory_kib": int(info.get("used_memory", 0)) // 1024}

    # --- load parts -------------------------------------------------------------------------

    def loadgen(self, name: str, extra: list[str]) -> None:
        lg = str(Path(self.args.loadgen) / "forrealtime-loadgen")
        base = [lg, "--mode", "stream",
                "--sub-url", f"http://127.0.0.1:{self.port}/api/realtime?channel={{ch}}",
                "--emit-url", f"http://127.0.0.1:{self.port}/api/emit",
                "--channel-prefix", f"soak-{name}-", "--reps", "1", "--drain", "5",
                "--max-time", "120"]
        while not self.stop.is_set():
            p = subprocess.run(base + extra, capture_output=True, text=True)
            self.count(f"{name} phases")
            try:
                r = json.loads(p.stdout)
                runs = r.get("runs", []) if isinstance(r, dict) else []
                lost = sum(x.get("lost", 0) + x.get("duplicates", 0) for x in runs)
                self.count(f"{name} deliveries", int(sum(x.get("delivered", 0) for x in runs)))
                self.count(f"{name} lost or duplicated", int(lost))
            except (json.JSONDecodeError, TypeError, AttributeError):
                self.count(f"{name} unreadable results")

    def churn(self) -> None:
        i = 0
        while not self.stop.is_set():
            ch = f"soak-churn-{i % 50}"
            raw = (f"GET /api/realtime?channel={ch}&last_ack_{ch}=0-1 HTTP/1.1\r\n"
                   f"Host: x\r\n\r\n").encode()
            got = request(self.port, raw, read_for=0.2)
            self.count("churn streams" if b"connected" in got else "churn failures")
            i += 1

    def slow(self) -> None:
        data = json.dumps({"pad": "x" * 32768})
        body = json.dumps({"channel": "soak-big", "event": "soak.big", "data": json.loads(data)}).encode()

        def emitter():
            while not self.stop.is_set():
                status = post_json(self.port, body)
                self.count("big emits" if status == 200 else f"big emit status {status}")
                time.sleep(0.01)

        t = threading.Thread(target=emitter, daemon=True)
        t.start()
        while not self.stop.is_set():
            socks = []
            for _ in range(5):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", self.port))
                s.sendall(b"GET /api/realtime?channel=soak-big HTTP/1.1\r\nHost: x\r\n\r\n")
                socks.append(s)
            # Never read; the gateway should give up on them at its hard limit.
            deadline = time.time() + 60
            while time.time() < deadline and not self.stop.is_set():
                time.sleep(1)
            for s in socks:
                s.setblocking(False)
                cut = False
                try:
                    while True:
                        chunk = s.recv(1 << 20)
                        if not chunk:
                            cut = True
                            break
                        if b'"type":"reconnect"' in chunk:
                            cut = True
                except BlockingIOError:
                    pass
                except OSError:
                    cut = True
                self.count("slow consumers cut" if cut else "slow consumers still open")
                s.close()
        t.join()

    def bad(self) -> None:
        cases = [
            b"POST /api/emit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{oops",
            b"POST /api/emit HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
            b"GET /api/realtime?channel= HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/realtime?channel=%00bad HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/history?channel=a&limit=99999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/history?channel=a&after=zz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
            b"DELETE /api/emit HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/emit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
            b"GET /api/history HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\x00\x01\x02garbage\r\n\r\n",
            b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/emit HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\n\r\n" + b"x" * 65536,
        ]
        while not self.stop.is_set():
            raw = random.choice(cases)
            got = request(self.port, raw, read_for=0.5)
            status = got[9:12].decode(errors="replace") if got.startswith(b"HTTP/1.1 ") else "none"
            self.count(f"bad request -> {status}")
            time.sleep(0.005)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> dict:
        self.start()
        self.t0 = time.time()
        samples = [self.sample("before")]
        log(f"gateway :{self.port}, redis :{self.rport}; {self.args.duration}s of load")
        threads = [
            threading.Thread(target=self.loadgen, args=("fanout", [
                "--connections", "300", "--channels", "1", "--rate", "20", "--duration", "20"])),
            threading.Thread(target=self.loadgen, args=("private", [
                "--connections", "500", "--channels", "500", "--rate", "250", "--duration", "20"])),
            threading.Thread(target=self.churn),
            threading.Thread(target=self.slow),
            threading.Thread(target=self.bad),
        ]
        for t in threads:
            t.start()
        warm_sample = None
        next_sample = time.time() + self.args.sample
        end = self.t0 + self.args.duration
        while time.time() < end:
            time.sleep(max(0.0, min(next_sample, end) - time.time()))
            if self.gw.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.gw.returncode}")
            samples.append(self.sample("load"))
            next_sample += self.args.sample
            if warm_sample is None and time.time() - self.t0 >= self.args.warmup:
                # The first settled point: stop nothing, but remember where the load stood.
                warm_sample = samples[-1]
        self.stop.set()
        for t in threads:
            t.join()
        time.sleep(self.args.settle)
        samples.append(self.sample("settled"))
        self.close()
        return {"samples": samples, "counts": self.counts, "warm": warm_sample}


def summarize(result: dict, args: argparse.Namespace) -> str:
    s = result["samples"]
    before, settled = s[0], s[-1]
    load = [x for x in s if x["phase"] == "load"]
    warm = result["warm"] or load[0]
    peak = {k: max(x[k] for x in load) for k in ("gateway_rss_kib", "gateway_fds", "redis_clients")}
    lines = [
        f"Soak: {args.duration:.0f} s of mixed load, sampled every {args.sample:.0f} s; "
        f"settled {args.settle:.0f} s after the load stopped.",
        "",
        "| measure | before load | at {:.0f} s (warm) | peak under load | settled at the end |".format(warm["t"]),
        "| --- | --- | --- | --- | --- |",
    ]
    for k, title in (("gateway_rss_kib", "gateway RSS (KiB)"), ("gateway_fds", "gateway open fds"),
                     ("redis_clients", "redis connected clients"),
                     ("redis_blocked_clients", "redis blocked clients"),
                     ("redis_used_memory_kib", "redis used memory (KiB)")):
        pk = peak.get(k, max(x[k] for x in load))
        lines.append(f"| {title} | {before[k]} | {warm[k]} | {pk} | {settled[k]} |")
    lines += ["", "| load part | count |", "| --- | --- |"]
    for k in sorted(result["counts"]):
        lines.append(f"| {k} | {result['counts'][k]} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--sample", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--settle", type=float, default=15)
    ap.add_argument("--bin", default=str(ROOT / "build/release/src/cli/forrealtime"))
    ap.add_argument("--loadgen", default=str(ROOT / "build/release/bench"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="forrealtime-soak-") as tmp:
        soak = Soak(args, Path(tmp))
        try:
            result = soak.run()
        finally:
            soak.stop.set()
            soak.close()
    json.dump(result, sys.stdout, indent=1)
    print(file=sys.stdout)
    print(summarize(result, args), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
