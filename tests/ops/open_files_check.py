#!/usr/bin/env python3
"""`forrealtime serve` raises its soft limit on open files to the hard one (each stream holds a
socket; a container engine or a shell may leave the soft limit at 1024 under a higher hard one)
and says so; with a low hard limit it warns and names the fix. The limit in force is read back
from /metrics (process_max_fds), the real program's own view.
Usage: open_files_check.py BIN"""
import resource
import subprocess
import sys
import urllib.request

bin_ = sys.argv[1]
errors = []


def run(soft, hard):
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    p = subprocess.Popen([bin_, "serve", "--port", "0", "--log-level", "info"], preexec_fn=limit,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if "listening on" not in line:
            p.kill()
            sys.exit(f"the gateway did not start: {line!r} {p.stderr.read()}")
        base = line.strip().split("listening on ")[1]
        with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
            metrics = r.read().decode()
        value = next((float(l.split()[-1]) for l in metrics.splitlines()
                      if l.startswith("process_max_fds ")), None)
    finally:
        p.terminate()
        _, err = p.communicate(timeout=20)
    return value, err


value, err = run(512, 8192)
if value != 8192:
    errors.append(f"soft 512, hard 8192: process_max_fds is {value}, expected 8192")
if "soft limit raised from 512 to 8192" not in err:
    errors.append(f"soft 512, hard 8192: no log line about the raise: {err[-600:]!r}")
if "open files: the limit is" in err:
    errors.append("soft 512, hard 8192: warned although the limit was raised to 8192")

value, err = run(1024, 1024)
if value != 1024:
    errors.append(f"soft = hard = 1024: process_max_fds is {value}, expected 1024")
if "open files: the limit is 1024" not in err or "--ulimit nofile=65536:65536" not in err:
    errors.append(f"soft = hard = 1024: no warning naming the fix: {err[-600:]!r}")

if errors:
    print("open files: FAILED\n  " + "\n  ".join(errors))
    sys.exit(1)
print("open files: the soft limit goes up to the hard one (512 -> 8192, read back from /metrics); "
      "a hard limit of 1024 is warned about with the fix")
