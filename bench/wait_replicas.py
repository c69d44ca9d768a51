#!/usr/bin/env python3
"""What --redis-wait-replicas costs an emit: a master and a replica (redis-server on free
loopback ports, in a temporary directory), the gateway in front of the master, and N emits one
after the other on one keep-alive connection, with WAIT 0 (off) and WAIT 1, alternating runs so
that machine noise falls on both. Prints the request latency p50/p90/p99 of each (ms).

Usage: bench/wait_replicas.py BIN [N] [ROUNDS]"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

bin_ = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
tmp = tempfile.mkdtemp(prefix="forrealtime-wait-")
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def redis(port, *extra):
    d = os.path.join(tmp, str(port))
    os.mkdir(d)
    procs.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                   "--dir", d, "--save", "", "--logfile", d + "/log", *extra]))


def wait_replica(port):
    for _ in range(200):
        out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "replication"],
                             capture_output=True, text=True).stdout
        if "master_link_status:up" in out:
            return
        time.sleep(0.05)
    sys.exit("the replica did not sync")


def gateway(url, wait):
    p = subprocess.Popen([bin_, "serve", "--host", "127.0.0.1", "--port", "0", "--redis", url,
                          "--threads", "1", "--redis-wait-replicas", str(wait),
                          "--key-prefix", f"wait{wait}:"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    return p, int(line.strip().rsplit(":", 1)[1].split()[0].strip("/"))


def run(port):
    c = http.client.HTTPConnection("127.0.0.1", port)
    lat = []
    body = json.dumps({"channel": "w", "event": "t.n", "data": 1})
    for _ in range(n):
        t = time.perf_counter()
        c.request("POST", "/api/emit", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        lat.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            sys.exit(f"emit answered {r.status}")
    lat.sort()
    return lat


try:
    master, replica = free_port(), free_port()
    redis(master)
    redis(replica, "--replicaof", "127.0.0.1", str(master))
    wait_replica(replica)
    url = f"redis://127.0.0.1:{master}"
    results = {0: [], 1: []}
    for _ in range(rounds):
        for wait in (0, 1):
            gw, port = gateway(url, wait)
            try:
                run(port)  # warm-up
                results[wait] += run(port)
            finally:
                gw.send_signal(signal.SIGTERM)
                gw.wait()
    for wait, lat in results.items():
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
        print(f"WAIT {wait}: {len(lat)} emits, p50 {q(0.5):.3f} ms, p90 {q(0.9):.3f} ms, "
              f"p99 {q(0.99):.3f} ms")
finally:
    for p in procs:
        p.kill()
        p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
