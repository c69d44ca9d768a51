#!/usr/bin/env python3
"""The Dockerfile's structure, checked without building it (tests/ops/image.sh builds and runs it):
multi-stage (a named build stage, a Debian 12 slim final stage), the final stage runs as a
non-root user, has a HEALTHCHECK that runs `forrealtime healthcheck --process 1` (the probe of /livez
where the running gateway's own settings say it listens), an ENTRYPOINT that serves, and every COPY source
exists in the repository and is not excluded by .dockerignore; the build stage's CMake
invocation builds the program and the package. Exits non-zero with the reasons."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
text = open(os.path.join(root, "Dockerfile")).read()
# Join continuation lines, drop comments.
lines = []
cur = ""
for raw in text.splitlines():
    s = raw.strip()
    if not s or s.startswith("#"):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append(cur + s)
    cur = ""
errors = []
stages = []  # (base, name, [instructions])
for line in lines:
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.I)
        if not m:
            errors.append(f"bad FROM: {line}")
            continue
        stages.append((m.group(1), m.group(2), []))
    elif not stages:
        if word != "ARG":
            errors.append(f"{word} before the first FROM")
    else:
        stages[-1][2].append((word, rest.strip()))
known = {"RUN", "COPY", "ENV", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD", "WORKDIR",
         "ARG", "LABEL", "STOPSIGNAL", "VOLUME", "SHELL", "ADD", "ONBUILD"}
for _, _, ins in stages:
    for word, rest in ins:
        if word not in known:
            errors.append(f"unknown instruction {word}")
        if word == "ADD" and re.match(r"https?://", rest):
            errors.append("ADD of a URL: downloads belong in a RUN with a checksum")
if len(stages) < 2:
    errors.append("not multi-stage")
else:
    names = [n for _, n, _ in stages[:-1]]
    if not all(names):
        errors.append("every stage but the last should be named (FROM ... AS name)")
    final_base, _, final = stages[-1]
    if final_base != "debian:12-slim":
        errors.append(f"the final stage is {final_base}, not debian:12-slim")
    users = [r for w, r in final if w == "USER"]
    if not users:
        errors.append("the final stage has no USER: it would run as root")
    elif users[-1].split(":")[0] in ("root", "0"):
        errors.append("the final stage runs as root")
    # The probe must follow the running gateway's effective settings (flags after the image
    # name, environment, a mounted config file): `forrealtime healthcheck --process 1`, not a
    # fixed port or one environment variable.
    hc = [r for w, r in final if w == "HEALTHCHECK"]
    if not hc:
        errors.append("no HEALTHCHECK in the final stage")
    elif not re.search(r'"?forrealtime"?,?\s*"?healthcheck"?,?\s*"?--process"?,?\s*"?1"?', hc[-1]):
        errors.append(f"the HEALTHCHECK does not run `forrealtime healthcheck --process 1`: {hc[-1]}")
    elif re.search(r"curl|wget|\$\{?FORREALTIME_PORT|:8787", hc[-1]):
        errors.append(f"the HEALTHCHECK probes a fixed or environment-only port: {hc[-1]}")
    if any(w == "ENV" and re.search(r"FORREALTIME_(HOST|PORT)=", r) for w, r in final):
        errors.append("the final stage sets FORREALTIME_HOST/PORT in ENV: they override a mounted config file")
    ep = " ".join(r for w, r in final if w in ("ENTRYPOINT", "CMD"))
    if "serve" not in ep:
        errors.append("the entry point does not run `forrealtime serve`")
    if not any(w == "EXPOSE" for w, _ in final):
        errors.append("no EXPOSE")
    for w, r in final:
        if w == "COPY" and "--from=" not in r:
            errors.append(f"the final stage copies from the context ({r}): take artefacts from the build stage")
    build_runs = " ".join(r for _, _, ins in stages[:-1] for w, r in ins if w == "RUN")
    for needed in ("cmake --build", "forrealtime-bin", "cpack"):
        if needed not in build_runs:
            errors.append(f"the build stage never runs '{needed}'")
ignored = []
di = os.path.join(root, ".dockerignore")
if os.path.exists(di):
    ignored = [l.strip() for l in open(di) if l.strip() and not l.startswith("#")]
for _, _, ins in stages:
    for word, rest in ins:
        if word != "COPY" or "--from=" in rest:
            continue
        parts = [p for p in rest.split() if not p.startswith("--")]
        for src in parts[:-1]:
            if not os.path.exists(os.path.join(root, src)):
                errors.append(f"COPY {src}: no such file in the repository")
            if src.rstrip("/") in ignored:
                errors.append(f"COPY {src}: excluded by .dockerignore")
# The build stage must copy every directory the top CMakeLists.txt adds or includes.
cml = open(os.path.join(root, "CMakeLists.txt")).read()
copied = {p.rstrip("/") for _, _, ins in stages for w, r in ins if w == "COPY" and "--from=" not in r
          for p in r.split()[:-1]}
for d in re.findall(r"add_subdirectory\((\w+)\)", cml) + re.findall(r"include\((\w+)/", cml):
    if d in ("tests", "bench"):
        continue
    if d not in copied:
        errors.append(f"CMakeLists.txt uses {d}/ but the Dockerfile does not COPY it")
if errors:
    print("Dockerfile: " + "\n  ".join(["problems:"] + errors))
    sys.exit(1)
print(f"Dockerfile: {len(stages)} stages, final {stages[-1][0]} as USER "
      f"{[r for w, r in stages[-1][2] if w == 'USER'][-1]}, HEALTHCHECK by `forrealtime healthcheck --process 1`: ok "
      "(structure; tests/ops/image.sh builds and runs it)")
