#!/usr/bin/env python3
"""Deterministic cost per event of a gateway binary: user-space instructions (callgrind) or
system calls (strace -c) per emit or per delivered event, for comparing two builds on a shared
machine where CPU time is noise.

    bench/ir_cost.py --bin build/release/src/cli/forrealtime --tool callgrind --case emit
    bench/ir_cost.py --bin /path/to/old --tool strace --case fanout --threads 1

The gateway runs with `--threads N --history-max-length 1000` (and its own redis-server with
`--redis`); only the load phase is counted: callgrind's instrumentation is switched on with
`callgrind_control -i on` after start-up and off before shutdown, strace is attached to the
running process for the phase only. The count is divided by the events the load generator saw
acknowledged (emit) or delivered (fanout, private). Cases:

  emit     closed loop (or --emit-rate), 16 keep-alive connections, 100 channels, single emits,
           no subscribers
  batch    the same with batches of 10
  fanout   200 subscribers on one channel, 20 events/s (per delivered event)
  private  500 subscribers each on its own channel, 200 events/s shuffled (per event: emit and
           its one delivery)

Prints one JSON object. Needs valgrind or strace, and the load generator
(build/release/bench/forrealtime-loadgen).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except Exception:
            time.sleep(0.3)
    return False


def loadgen_args(case: str, port: int, duration: float, rate: int = 0) -> list[str]:
    emit = ["--emit-url", f"http://127.0.0.1:{port}/api/emit"]
    sub = ["--sub-url", f"http://127.0.0.1:{port}/api/realtime?channel={{ch}}"]
    d = ["--duration", str(duration), "--reps", "1"]
    if case in ("emit", "batch"):
        return ["--mode", "emit", *emit, "--emit-conns", "16", "--channels", "100", "--emit-rate", str(rate),
                "--batch", "10" if case == "batch" else "1", *d]
    if case == "fanout":
        return ["--mode", "stream", *emit, *sub, "--connections", "200", "--channels", "1", "--rate", "20", *d]
    if case == "private":
        return ["--mode", "stream", *emit, *sub, "--connections", "500", "--channels", "500", "--rate", "200",
                "--order", "shuffled", *d]
    raise SystemExit(f"unknown case {case}")


def events_of(case: str, result: dict) -> int:
    run = result["runs"][0]
    if case in ("emit", "batch"):
        return int(run["events_ok"])
    if case == "fanout":
        return int(run.get("delivered", 0)) or int(run.get("events_emitted", 0)) * 200
    return int(run.get("events_emitted", 0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build/release/src/cli/forrealtime"))
    ap.add_argument("--loadgen", default=str(ROOT / "build/release/bench/forrealtime-loadgen"))
    ap.add_argument("--tool", choices=["callgrind", "strace"], default="callgrind")
    ap.add_argument("--case", choices=["emit", "batch", "fanout", "private"], default="emit")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--redis", action="store_true")
    ap.add_argument("--emit-rate", type=int, default=0,
                    help="emit, batch: open loop at this many events/s (default 0: closed loop)")
    ap.add_argument("--duration", type=float, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (callgrind output)")
    a = ap.parse_args()
    duration = a.duration or (4 if a.tool == "callgrind" else 2)
    tmp = Path(tempfile.mkdtemp(prefix="ir-cost-"))
    procs: list[subprocess.Popen] = []
    try:
        port = free_port()
        args = [a.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(a.threads),
                "--history-max-length", "1000"]
        if a.redis:
            rport = free_port()
            procs.append(subprocess.Popen(["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no",
                                           "--dir", str(tmp)], stdout=subprocess.DEVNULL, cwd=tmp))
            time.sleep(0.5)
            args += ["--redis", f"redis://127.0.0.1:{rport}"]
        out = tmp / "callgrind.out"
        if a.tool == "callgrind":
            args = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *args]
        srv = subprocess.Popen(args, stdout=open(tmp / "server.log", "w"), stderr=subprocess.STDOUT)
        procs.append(srv)
        if not wait_http(f"http://127.0.0.1:{port}/healthz"):
            raise SystemExit("the gateway did not answer /healthz; see " + str(tmp / "server.log"))
        tracer = None
        if a.tool == "callgrind":
            subprocess.run(["callgrind_control", "-i", "on", str(srv.pid)], check=True, stdout=subprocess.DEVNULL)
        else:
            tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(srv.pid), "-o", str(tmp / "strace.txt")],
                                      stderr=subprocess.DEVNULL)
            time.sleep(1)
        lg = subprocess.run([a.loadgen, *loadgen_args(a.case, port, duration, a.emit_rate), "--max-time", "600"],
                            capture_output=True, text=True)
        if a.tool == "callgrind":
            subprocess.run(["callgrind_control", "-i", "off", str(srv.pid)], check=True, stdout=subprocess.DEVNULL)
        else:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=60)
        result = json.loads(lg.stdout)
        events = events_of(a.case, result)
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=120)
        report: dict = dict(bin=a.bin, tool=a.tool, case=a.case, threads=a.threads, redis=a.redis,
                            duration_s=duration, events=events)
        if a.tool == "callgrind":
            total = 0
            for f in tmp.glob("callgrind.out*"):
                for line in f.read_text(errors="replace").splitlines():
                    if line.startswith("summary:") or line.startswith("totals:"):
                        total = max(total, int(line.split()[1]))
            report["instructions"] = total
            report["instructions_per_event"] = round(total / max(events, 1))
        else:
            calls: dict[str, int] = {}
            for line in (tmp / "strace.txt").read_text().splitlines():
                m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
                if m and m.group(2) != "total":
                    calls[m.group(2)] = int(m.group(1))
            report["syscalls_per_event"] = round(sum(calls.values()) / max(events, 1), 3)
            report["by_call"] = {k: round(v / max(events, 1), 3) for k, v in sorted(calls.items(), key=lambda kv: -kv[1])}
        run = result["runs"][0]
        for k in ("events_per_s", "emit_latency", "latency", "lost"):
            if k in run:
                report[k] = run[k]
        if a.keep:
            report["tmp"] = str(tmp)
        print(json.dumps(report))
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not a.keep:
            subprocess.run(["rm", "-rf", str(tmp)])


if __name__ == "__main__":
    sys.exit(main())
