#!/usr/bin/env python3
"""Replays a keystroke file PASSES times in order on one keep-alive connection and prints, per
pass, the latency percentiles and the pass's total, then the slowest searches of the last pass.
The first pass on a fresh server is the cold one (nothing cached for that snapshot); the ones
after it are warm. JSON with every latency, per pass, goes to OUT.

    python3 scripts/replay-passes.py PORT INDEX KEYSTROKES_FILE PASSES OUT
    e.g. python3 scripts/replay-passes.py 7700 pypi ../shared/queries/pypi.dev.keystrokes.txt 2 /tmp/p.json
"""
import http.client
import json
import sys
import time

port, index, path, passes, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
queries = [line.rstrip("\n") for line in open(path, encoding="utf-8") if line.strip()]
connection = http.client.HTTPConnection("127.0.0.1", int(port))
runs = []
for number in range(passes):
    timed = []
    for q in queries:
        body = json.dumps({"q": q})
        began = time.perf_counter()
        connection.request("POST", f"/indexes/{index}/search", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
        timed.append(((time.perf_counter() - began) * 1e6, q))
    ordered = sorted(t for t, _ in timed)
    n = len(ordered)
    print(
        f"pass {number}: p50 {ordered[n // 2]:.0f} p90 {ordered[int(n * 0.9)]:.0f} "
        f"p99 {ordered[int(n * 0.99)]:.0f} max {ordered[-1]:.0f} us, total {sum(ordered) / 1e3:.0f} ms"
    )
    runs.append(timed)
with open(out, "w", encoding="utf-8") as f:
    json.dump(runs, f)
for micros, q in sorted(runs[-1], reverse=True)[:25]:
    print(f"{micros:8.0f} us  {q!r}")
